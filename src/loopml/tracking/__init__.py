"""Tracking: runs, trials, cells, artifacts, the registry, predictions, model events, profiles.

All of it sits behind one store contract.

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
    FeedbackRecord,
    Lineage,
    ModelEvent,
    ModelEventKind,
    ModelVersion,
    PredictionRecord,
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
    "FeedbackRecord",
    "InMemoryStore",
    "Lineage",
    "ModelEvent",
    "ModelEventKind",
    "ModelVersion",
    "PredictionRecord",
    "RunRecord",
    "RunState",
    "Rung",
    "SQLStore",
    "TrialRecord",
    "TrialState",
    "get_store",
]
