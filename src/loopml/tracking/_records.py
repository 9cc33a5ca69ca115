"""Immutable records that cross layers: runs, cells, artifacts, versions, alias events."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

__all__ = [
    "AliasEvent",
    "ArtifactRecord",
    "CellRecord",
    "CellState",
    "EventKind",
    "Lineage",
    "ModelVersion",
    "RunRecord",
    "RunState",
]


class CellState(enum.Enum):
    """Where a (dataset, model) cell stands."""

    RUNNING = "RUNNING"
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"

    def is_finished(self) -> bool:
        return self is not CellState.RUNNING


class RunState(enum.Enum):
    """Where a run of the grid stands. FAILED means at least one cell failed."""

    RUNNING = "RUNNING"
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"

    def is_finished(self) -> bool:
        return self is not RunState.RUNNING


class EventKind(enum.Enum):
    """Why an alias moved."""

    REGISTER = "register"
    PROMOTE = "promote"
    ROLLBACK = "rollback"


@dataclass(frozen=True)
class Lineage:
    """What produced a run: the spec, the code and the environment."""

    spec_hash: str
    loopml_version: str
    python_version: str
    packages: Mapping[str, str] = field(default_factory=dict)
    git_commit: str | None = None


@dataclass(frozen=True)
class RunRecord:
    """One execution of a pipeline's grid."""

    run_id: str
    pipeline: str
    state: RunState
    started_at: datetime
    lineage: Lineage
    workers: int
    finished_at: datetime | None = None
    n_cells: int = 0
    n_failed: int = 0


@dataclass(frozen=True)
class CellRecord:
    """The outcome of training and validating one model on one dataset."""

    cell_id: str
    run_id: str
    pipeline: str
    dataset: str
    model: str
    state: CellState
    estimator: str
    params: Mapping[str, Any]
    dataset_fingerprint: str
    metrics: Mapping[str, float] = field(default_factory=dict)
    fit_seconds: float | None = None
    predict_seconds: float | None = None
    artifact_sha256: str | None = None
    error: str | None = None
    finished_at: datetime | None = None
    key: str | None = None
    """Content key of the work: the same key means the same model trained on the same rows."""


@dataclass(frozen=True)
class ArtifactRecord:
    """A saved fitted pipeline, addressed by the sha256 of its bytes."""

    sha256: str
    uri: str
    size_bytes: int
    input_schema: Mapping[str, Any]
    sample_rows: tuple[Mapping[str, Any], ...]
    created_at: datetime


@dataclass(frozen=True)
class ModelVersion:
    """An immutable version of a registered model (``<pipeline>.<dataset>``)."""

    name: str
    version: int
    cell_id: str
    run_id: str
    artifact_sha256: str
    metrics: Mapping[str, float]
    created_at: datetime


@dataclass(frozen=True)
class AliasEvent:
    """One move of an alias: who moved it, when, why, from which version to which."""

    name: str
    alias: str
    kind: EventKind
    from_version: int | None
    to_version: int
    actor: str
    reason: str
    at: datetime
    event_id: int | None = None
