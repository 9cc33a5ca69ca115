"""Where artifact files live: a folder on this machine, or a prefix fsspec opens by URL.

A root turns a uri (a POSIX path relative to it) into a location, refusing any that
leaves it, and reads and writes whole files there. Writes are atomic: a reader sees no
file or the whole file. Locally that is a synced temp file renamed into place; elsewhere a
temp object moved into place (on an object store the move is one server-side copy, and
an object appears whole or not at all).
"""

from __future__ import annotations

import abc
import contextlib
import os
import posixpath
import secrets
from pathlib import Path, PurePosixPath
from typing import Any

from loopml._files import write_atomically
from loopml.errors import ArtifactError

__all__ = ["ArtifactRoot", "FsspecRoot", "LocalRoot", "open_root"]


def open_root(root: str | os.PathLike[str]) -> ArtifactRoot:
    """Return the root ``root`` names: a path, or an fsspec URL such as ``s3://bucket/x``.

    A URL fsspec maps to the local filesystem (``file:///abs/path``) is a local root.
    """
    if isinstance(root, str) and "://" in root:
        import fsspec
        from fsspec.implementations.local import LocalFileSystem

        try:
            fs, path = fsspec.core.url_to_fs(root)
        except (ImportError, ValueError) as exc:
            raise ArtifactError(
                f"cannot open the artifact root {root!r}: {exc}. Use a path, or an fsspec URL "
                "whose filesystem is installed (s3:// needs s3fs)"
            ) from exc
        if isinstance(fs, LocalFileSystem):
            return LocalRoot(Path(path))
        return FsspecRoot(fs, root)
    return LocalRoot(Path(root))


class ArtifactRoot(abc.ABC):
    """A place artifact files are read from and written to, whole."""

    root: Path | str
    """The root as messages show it: a resolved path, or the URL."""

    @abc.abstractmethod
    def locate(self, uri: str) -> Path | str:
        """Return where ``uri`` lives; raise ArtifactError if that is outside the root."""

    @abc.abstractmethod
    def read(self, location: Path | str) -> bytes:
        """Return the bytes at ``location``; raise FileNotFoundError or OSError."""

    @abc.abstractmethod
    def write(self, location: Path | str, data: bytes) -> None:
        """Write ``data`` to ``location`` atomically, creating folders; raise OSError."""

    @abc.abstractmethod
    def exists(self, location: Path | str) -> bool:
        """Return whether a file is at ``location``."""

    def _relative(self, uri: str) -> PurePosixPath:
        """Return ``uri`` as a path under the root, refusing ``..`` anywhere."""
        if ".." in PurePosixPath(uri).parts:
            raise ArtifactError(
                f"artifact uri {uri!r} contains '..'; uris are paths under {self.root} such "
                "as 'sha256/ab/ab….skops'"
            )
        return PurePosixPath(uri)


class LocalRoot(ArtifactRoot):
    """A folder on this machine; symlinks that point out of it are refused too."""

    def __init__(self, path: Path) -> None:
        self.root: Path = path.resolve()

    def locate(self, uri: str) -> Path:
        # resolve() follows symlinks, so a link inside the root that points out is caught.
        path = (self.root / Path(str(self._relative(uri)))).resolve()
        if not path.is_relative_to(self.root):
            raise ArtifactError(
                f"artifact uri {uri!r} resolves to {path}, outside the artifact root "
                f"{self.root}; only files under the root are loaded"
            )
        return path

    def read(self, location: Path | str) -> bytes:
        return Path(location).read_bytes()

    def write(self, location: Path | str, data: bytes) -> None:
        write_atomically(Path(location), data)

    def exists(self, location: Path | str) -> bool:
        return Path(location).is_file()


class FsspecRoot(ArtifactRoot):
    """A prefix on any filesystem fsspec reaches: ``s3://bucket/prefix``, ``memory://x``."""

    def __init__(self, fs: Any, url: str) -> None:
        self.fs = fs
        self.root: str = url.rstrip("/")

    def locate(self, uri: str) -> str:
        relative = uri
        if uri.startswith(self.root + "/"):  # the full URL of a file under the root
            relative = uri[len(self.root) + 1 :]
        normal = posixpath.normpath(str(self._relative(relative)))
        if "://" in relative or normal.startswith("/") or normal == ".":
            raise ArtifactError(
                f"artifact uri {uri!r} is outside the artifact root {self.root}; uris are "
                "paths under it such as 'sha256/ab/ab….skops'"
            )
        return f"{self.root}/{normal}"

    def read(self, location: Path | str) -> bytes:
        data: bytes = self.fs.cat_file(str(location))
        return data

    def write(self, location: Path | str, data: bytes) -> None:
        final = str(location)
        folder, name = posixpath.split(final)
        temp = f"{folder}/.{name}.{secrets.token_hex(4)}.tmp"
        self.fs.makedirs(folder, exist_ok=True)
        try:
            self.fs.pipe_file(temp, data)
            self.fs.mv(temp, final)
        finally:
            with contextlib.suppress(OSError):
                if self.fs.exists(temp):
                    self.fs.rm_file(temp)

    def exists(self, location: Path | str) -> bool:
        return bool(self.fs.isfile(str(location)))
