"""Deployable artifacts: fitted pipelines saved with skops, addressed and verified by sha256.

::

    store = ArtifactStore(spec.artifacts_dir)
    ref = store.save(pipeline)                       # ArtifactRef(sha256, uri, size_bytes)
    pipeline = store.load(ref.uri, sha256=ref.sha256)
    schema = input_schema(X_raw)                     # what the pipeline expects as input
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from loopml.artifacts._schema import input_schema, sample_rows
from loopml.artifacts._store import ArtifactRef, ArtifactStore

if TYPE_CHECKING:
    from loopml.artifacts._trusted import TRUSTED_TYPES

__all__ = ["TRUSTED_TYPES", "ArtifactRef", "ArtifactStore", "input_schema", "sample_rows"]


def __getattr__(name: str) -> frozenset[str]:
    # Building the list imports every scikit-learn estimator (seconds); only pay on use.
    if name == "TRUSTED_TYPES":
        from loopml.artifacts._trusted import TRUSTED_TYPES

        return TRUSTED_TYPES
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
