"""Content-addressed skops files of fitted pipelines, verified by sha256 before every load.

Layout under the root: ``sha256/<first two hex digits>/<sha256>.skops``. The root is a
folder, or any fsspec URL (``file:///abs/path``, ``s3://bucket/prefix`` with s3fs). The
bytes are the skops dump in canonical form, so a pipeline refitted identically gets the
same sha256. A file is written under a temp name next to its final one, then moved into
place (see :mod:`loopml.artifacts._roots`), so a reader sees either no file or the whole
file. Saves are idempotent: the same content is written once, and concurrent saves of it
from several threads or processes are safe (every move carries the same bytes). Loads
refuse a file whose bytes do not hash to the sha256 the caller recorded, or that holds a
type outside :data:`TRUSTED_TYPES` and the caller's ``extra_trusted``. A store holds no
state beyond its root and may be shared freely.

skops (and the trusted list, which imports every scikit-learn estimator) is imported on
first use: together they take seconds, which commands that never touch an artifact should
not pay.
"""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from loopml.artifacts._canonical import canonicalize
from loopml.artifacts._roots import ArtifactRoot, open_root
from loopml.errors import ArtifactError

__all__ = ["ArtifactRef", "ArtifactStore"]

_SHA256 = re.compile(r"[0-9a-f]{64}")


@dataclass(frozen=True)
class ArtifactRef:
    """Where a saved artifact lives: its sha256, its path under the root, its size."""

    sha256: str
    uri: str
    size_bytes: int


class ArtifactStore:
    """Saves fitted pipelines as skops files under ``root`` and loads them back, verified.

    ``root`` is a folder or an fsspec URL; :attr:`root` is then the resolved folder or
    the URL.
    """

    def __init__(self, root: str | os.PathLike[str]) -> None:
        self._files: ArtifactRoot = open_root(root)
        self.root = self._files.root

    def save(self, pipeline: Any) -> ArtifactRef:
        """Serialize ``pipeline`` with skops and store it; return where it lives.

        Saving content that is already stored writes nothing. Raises :class:`ArtifactError`
        when skops cannot serialize the pipeline or the file cannot be written.
        """
        import skops.io

        try:
            raw = skops.io.dumps(pipeline)
        except Exception as exc:
            raise ArtifactError(
                f"skops could not serialize {type(pipeline).__name__}: {exc}. Artifacts are "
                "saved with skops; use estimators and functions it supports"
            ) from exc
        dump = canonicalize(raw)
        # A lambda dumps fine but can never be imported back by its name.
        unloadable = sorted(name for name in dump.type_names if "<" in name)
        if unloadable:
            raise ArtifactError(
                f"the pipeline holds {', '.join(unloadable)}, which cannot be loaded back by "
                "name. Define it as a function at module level in an importable module"
            )
        sha = hashlib.sha256(dump.data).hexdigest()
        uri = _uri(sha)
        location = self._files.locate(uri)
        if not self._holds(location, sha):
            self._write(location, dump.data)
        return ArtifactRef(sha256=sha, uri=uri, size_bytes=len(dump.data))

    def load(self, uri_or_sha: str, *, sha256: str, extra_trusted: Iterable[str] = ()) -> Any:
        """Return the object stored at ``uri_or_sha`` after checking its bytes and types.

        ``sha256`` is the hash recorded when the artifact was saved. ``extra_trusted`` names
        types to trust on top of :data:`TRUSTED_TYPES`, such as estimator classes from other
        libraries that the user's spec names; a single name may be passed as a string.
        """
        import skops.io

        from loopml.artifacts._trusted import TRUSTED_TYPES

        is_sha = _SHA256.fullmatch(uri_or_sha.lower()) is not None
        path = self.path_for(_uri(uri_or_sha) if is_sha else uri_or_sha)
        data = self._read(path)
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256.lower():
            raise ArtifactError(
                f"artifact {path} has sha256 {actual}, but sha256 {sha256} was recorded for it: "
                "the file is corrupt or was changed after it was saved. Re-run the cell that "
                "produced it to write it again"
            )
        extra = {extra_trusted} if isinstance(extra_trusted, str) else set(extra_trusted)
        try:
            reported = skops.io.get_untrusted_types(data=data)
        except Exception as exc:
            raise ArtifactError(f"artifact {path} is not a readable skops file: {exc}") from exc
        refused = sorted(set(reported) - TRUSTED_TYPES - extra)
        if refused:
            raise ArtifactError(
                f"artifact {path} holds types loopml does not trust: {', '.join(refused)}. "
                "Load it only if you trust where the file came from, by passing these names "
                "in extra_trusted"
            )
        try:
            return skops.io.loads(data, trusted=reported)
        except Exception as exc:
            raise ArtifactError(
                f"skops could not rebuild artifact {path}: {exc}. Check that the libraries "
                "and modules it was saved with are installed and importable"
            ) from exc

    def path_for(self, uri: str) -> Path | str:
        """Return where ``uri`` lives (a path, or a URL), refusing any outside the root."""
        return self._files.locate(uri)

    def exists(self, sha256: str) -> bool:
        """Return whether a file for ``sha256`` is stored (its bytes are checked on load)."""
        return self._files.exists(self._files.locate(_uri(sha256)))

    def _holds(self, location: Path | str, sha: str) -> bool:
        # Re-hashing an existing file costs a fraction of a millisecond and lets a re-run
        # of the cell repair a corrupted file instead of keeping it forever.
        try:
            return hashlib.sha256(self._files.read(location)).hexdigest() == sha
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise ArtifactError(f"cannot read existing artifact {location}: {exc}") from exc

    def _read(self, location: Path | str) -> bytes:
        try:
            return self._files.read(location)
        except FileNotFoundError as exc:
            raise ArtifactError(
                f"artifact file {location} does not exist. It was deleted or the artifact "
                "root moved; re-run the cell that produced it"
            ) from exc
        except OSError as exc:
            raise ArtifactError(f"cannot read artifact {location}: {exc}") from exc

    def _write(self, location: Path | str, data: bytes) -> None:
        try:
            self._files.write(location, data)
        except OSError as exc:
            raise ArtifactError(
                f"cannot write artifact {location}: {exc}. Check free space and permissions"
            ) from exc


def _uri(sha256: str) -> str:
    """Return the uri of ``sha256`` relative to the root, in POSIX form."""
    sha = sha256.lower()
    if not _SHA256.fullmatch(sha):
        raise ArtifactError(f"a sha256 is 64 hex digits, but got {sha256!r}")
    return f"sha256/{sha[:2]}/{sha}.skops"
