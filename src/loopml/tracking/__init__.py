"""Tracking: runs, trials, cells, artifacts and the model registry, behind one store contract.

Pick a store with :func:`get_store`; every store honours :class:`BaseStore`'s contract and
passes the conformance suite in :mod:`loopml.tracking.testing`.
"""

from __future__ import annotations

from loopml.tracking._base import BaseStore
from loopml.tracking._factory import get_store
from loopml.tracking._memory import InMemoryStore
from loopml.tracking._records import (
    AliasEvent,
    ArtifactRecord,
    CellRecord,
    CellState,
    EventKind,
    Lineage,
    ModelVersion,
    Rung,
    RunRecord,
    RunState,
    TrialRecord,
    TrialState,
)
from loopml.tracking._sql import SQLStore

__all__ = [
    "AliasEvent",
    "ArtifactRecord",
    "BaseStore",
    "CellRecord",
    "CellState",
    "EventKind",
    "InMemoryStore",
    "Lineage",
    "ModelVersion",
    "RunRecord",
    "RunState",
    "Rung",
    "SQLStore",
    "TrialRecord",
    "TrialState",
    "get_store",
]
