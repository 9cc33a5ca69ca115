"""Immutable records that cross layers: runs, cells, artifacts, versions, predictions, events."""

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
    "FeedbackRecord",
    "Lineage",
    "ModelEvent",
    "ModelEventKind",
    "ModelVersion",
    "PredictionRecord",
    "RunRecord",
    "RunState",
    "Rung",
    "TrialRecord",
    "TrialState",
]


class CellState(enum.Enum):
    """Where a (dataset, model) cell stands."""

    RUNNING = "RUNNING"
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"

    def is_finished(self) -> bool:
        return self is not CellState.RUNNING


class RunState(enum.Enum):
    """Where a run of the grid stands.

    FAILED: at least one cell failed. STOPPED: the budget (time or trials) was spent before
    every trial ran; a later run continues. ABANDONED: the driver died (``kill -9``,
    power loss) and a later run found it.
    """

    RUNNING = "RUNNING"
    COMPLETE = "COMPLETE"
    FAILED = "FAILED"
    STOPPED = "STOPPED"
    ABANDONED = "ABANDONED"

    def is_finished(self) -> bool:
        return self is not RunState.RUNNING


class TrialState(enum.Enum):
    """Where one tuning trial stands (mirrors Optuna's states, plus ABANDONED)."""

    RUNNING = "RUNNING"
    COMPLETE = "COMPLETE"
    PRUNED = "PRUNED"
    FAILED = "FAILED"
    ABANDONED = "ABANDONED"

    def is_finished(self) -> bool:
        return self is not TrialState.RUNNING


class EventKind(enum.Enum):
    """Why an alias moved."""

    REGISTER = "register"
    PROMOTE = "promote"
    ROLLBACK = "rollback"


class ModelEventKind(enum.Enum):
    """What the monitor or the update policy decided about a registered model."""

    DRIFT_CHECK = "drift_check"
    """A monitor run, with its numbers."""
    RETRAIN = "retrain"
    """A challenger was trained."""
    RETRAIN_SKIPPED = "retrain_skipped"
    """The retrain triggers were evaluated and there was nothing to do; ``reason`` says why."""
    CHALLENGE = "challenge"
    """Challenger against champion on a holdout: promoted or not, with the numbers."""
    PROMOTION_LOST = "promotion_lost"
    """The promotion lost the alias compare-and-set to another process."""
    GUARD = "guard"
    """The check after a promotion: the new champion kept or rolled back."""


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
    host: str | None = None
    pid: int | None = None
    heartbeat_at: datetime | None = None
    estimate: Mapping[str, Any] | None = None
    """What `plan` predicted for this run (seconds, trials to run, confidence), if known."""


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
    trial_id: str | None = None
    """The trial this cell's result comes from (its best trial)."""
    n_trials: int = 1
    cached: bool = False
    """True when the best trial was reused from an earlier run, not trained by this one."""


@dataclass(frozen=True)
class Rung:
    """One budget level of a trial: the primary metric measured there, and its cost."""

    step: int
    budget: float
    value: float
    seconds: float


@dataclass(frozen=True)
class TrialRecord:
    """One tuning trial of a (dataset, model) cell: sampled params, rungs, outcome.

    ``study_key`` identifies the search it belongs to (data, preprocessing, split,
    estimator, fixed params, search space, sampler, pruner, seed); ``key`` identifies the
    work itself (the study's data and model plus these params), which the cache looks up.
    """

    trial_id: str
    run_id: str
    pipeline: str
    dataset: str
    model: str
    study_key: str
    key: str
    number: int
    state: TrialState
    params: Mapping[str, Any]
    started_at: datetime
    rows: int = 0
    features: int = 0
    rungs: tuple[Rung, ...] = ()
    metrics: Mapping[str, float] = field(default_factory=dict)
    fit_seconds: float | None = None
    predict_seconds: float | None = None
    artifact_sha256: str | None = None
    error: str | None = None
    finished_at: datetime | None = None

    @property
    def seconds(self) -> float:
        """Compute spent: the sum of the rungs' seconds."""
        return sum(r.seconds for r in self.rungs)


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


@dataclass(frozen=True)
class PredictionRecord:
    """One row a model server answered: what it was given, what it said, how fast.

    ``(request_id, row)`` identifies it: ``row`` is the row's position in the request.
    ``features``, ``prediction`` and ``probabilities`` hold JSON values (what a JSON
    column gives back: tuples come back as lists).
    """

    request_id: str
    row: int
    name: str
    version: int
    at: datetime
    features: Mapping[str, Any]
    prediction: Any
    probabilities: Mapping[str, float] | None
    latency_ms: float


@dataclass(frozen=True)
class FeedbackRecord:
    """The true label of one served row, learnt after the fact (a JSON value)."""

    request_id: str
    row: int
    name: str
    label: Any
    at: datetime


@dataclass(frozen=True)
class ModelEvent:
    """One entry of a registered model's timeline: what was decided, when, by whom, why.

    ``version`` is the version it is about, if any; ``data`` holds the numbers behind the
    decision as JSON values (tuples come back as lists). The store assigns ``event_id``.
    """

    name: str
    kind: ModelEventKind
    at: datetime
    actor: str
    reason: str
    version: int | None = None
    data: Mapping[str, Any] = field(default_factory=dict)
    event_id: int | None = None
