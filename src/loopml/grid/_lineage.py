"""What produced a run: spec hash, loopml and Python versions, packages, git commit."""

from __future__ import annotations

import platform
import subprocess
from importlib import metadata
from pathlib import Path

from loopml._version import __version__
from loopml.spec import Spec, spec_hash
from loopml.tracking import Lineage

__all__ = ["collect_lineage"]

_KEY_PACKAGES = ("scikit-learn", "numpy", "pandas", "scipy", "skops", "pyarrow")


def collect_lineage(spec: Spec) -> Lineage:
    """Return the lineage of a run of ``spec`` in this environment."""
    names = set(_KEY_PACKAGES)
    for model in spec.models.values():
        top = model.estimator.split(".", 1)[0].split(":", 1)[0]
        names.add({"sklearn": "scikit-learn"}.get(top, top))
    return Lineage(
        spec_hash=spec_hash(spec),
        loopml_version=__version__,
        python_version=platform.python_version(),
        packages={n: v for n in sorted(names) if (v := _version(n)) is not None},
        git_commit=git_commit(spec.root),
    )


def git_commit(root: Path) -> str | None:
    """Return HEAD of the git work tree holding ``root`` (``+dirty`` if changed), or None."""
    try:
        head = subprocess.run(
            ["git", "-C", str(root), "rev-parse", "HEAD"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
        if head.returncode != 0:
            return None
        dirty = subprocess.run(
            ["git", "-C", str(root), "status", "--porcelain", "--untracked-files=no"],
            capture_output=True,
            text=True,
            timeout=5,
            check=False,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return head.stdout.strip() + ("+dirty" if dirty.stdout.strip() else "")


def _version(dist: str) -> str | None:
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None
