"""Records to store in the conformance suite, and helpers its tests share."""

from __future__ import annotations

import dataclasses
import threading
import uuid
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from loopml.tracking._records import (
    ArtifactRecord,
    CellRecord,
    CellState,
    FeedbackRecord,
    Lineage,
    ModelEvent,
    ModelEventKind,
    PredictionRecord,
    Rung,
    RunRecord,
    RunState,
    TrialRecord,
    TrialState,
)

__all__ = [
    "T0",
    "THREADS",
    "is_utc",
    "make_artifact",
    "make_cell",
    "make_feedback",
    "make_model_event",
    "make_prediction",
    "make_run",
    "make_trial",
    "run_threads",
    "running",
]

T0 = datetime(2024, 5, 1, 12, 0, 0, 123456, tzinfo=UTC)
THREADS = 8


def make_run(
    run_id: str | None = None, *, pipeline: str = "shop", minute: int = 0, **changes: Any
) -> RunRecord:
    """Return a new RUNNING run that started ``minute`` minutes after a fixed instant."""
    started = T0 + timedelta(minutes=minute)
    run = RunRecord(
        run_id=run_id or uuid.uuid4().hex,
        pipeline=pipeline,
        state=RunState.RUNNING,
        started_at=started,
        lineage=Lineage("spec123", "0.1.0", "3.11.7", {"scikit-learn": "1.5.0"}, "abc1234"),
        workers=2,
        host="ci-runner-3",
        pid=4242,
        heartbeat_at=started,
        estimate={"seconds": 95.5, "trials": 40, "confidence": "medium"},
    )
    return dataclasses.replace(run, **changes)


def make_cell(run: RunRecord, cell_id: str | None = None, **changes: Any) -> CellRecord:
    """Return a COMPLETE cell of ``run``, the best of 12 trials; ``changes`` override any field."""
    cell = CellRecord(
        cell_id=cell_id or uuid.uuid4().hex,
        run_id=run.run_id,
        pipeline=run.pipeline,
        dataset="eu",
        model="logreg",
        state=CellState.COMPLETE,
        estimator="sklearn.linear_model.LogisticRegression",
        params={"C": 0.5, "max_iter": 500, "penalty": None, "layers": [10, 5]},
        dataset_fingerprint="fp-eu",
        metrics={"accuracy": 0.875, "f1": 0.8},
        fit_seconds=0.25,
        predict_seconds=0.01,
        artifact_sha256="a" * 64,
        finished_at=T0 + timedelta(minutes=1),
        key="k" * 64,
        trial_id=uuid.uuid4().hex,
        n_trials=12,
    )
    return dataclasses.replace(cell, **changes)


def make_trial(
    run: RunRecord, trial_id: str | None = None, *, number: int = 0, **changes: Any
) -> TrialRecord:
    """Return trial ``number`` of a study of ``run``, COMPLETE after two rungs.

    It started ``number`` minutes after a fixed instant and took two seconds; its content
    key depends on ``number`` only. ``changes`` override any field.
    """
    started = T0 + timedelta(minutes=number)
    trial = TrialRecord(
        trial_id=trial_id or uuid.uuid4().hex,
        run_id=run.run_id,
        pipeline=run.pipeline,
        dataset="eu",
        model="logreg",
        study_key="s" * 64,
        key=f"{number:064d}",
        number=number,
        state=TrialState.COMPLETE,
        params={"C": 0.5 + number, "penalty": "l2", "layers": [10, 5]},
        started_at=started,
        rows=1_000,
        features=12,
        rungs=(Rung(0, 0.25, 0.8, 0.5), Rung(1, 1.0, 0.85, 1.5)),
        metrics={"accuracy": 0.85, "f1": 0.8},
        fit_seconds=1.5,
        predict_seconds=0.02,
        artifact_sha256="a" * 64,
        finished_at=started + timedelta(seconds=2),
    )
    return dataclasses.replace(trial, **changes)


def running(trial: TrialRecord) -> TrialRecord:
    """Return the trial as it is stored when it starts: RUNNING, nothing measured yet."""
    return dataclasses.replace(
        trial,
        state=TrialState.RUNNING,
        rungs=(),
        metrics={},
        fit_seconds=None,
        predict_seconds=None,
        artifact_sha256=None,
        finished_at=None,
    )


def make_artifact(sha256: str = "a" * 64, *, uri: str = "file:///tmp/a.skops") -> ArtifactRecord:
    """Return an artifact record."""
    return ArtifactRecord(
        sha256=sha256,
        uri=uri,
        size_bytes=12345,
        input_schema={"age": "int64", "plan": "object"},
        sample_rows=({"age": 31, "plan": "pro"}, {"age": 45, "plan": "free"}),
        created_at=T0,
    )


def make_prediction(
    request_id: str = "req-1",
    row: int = 0,
    *,
    name: str = "shop.eu",
    second: float = 0,
    **changes: Any,
) -> PredictionRecord:
    """Return row ``row`` of a request served ``second`` seconds after a fixed instant."""
    prediction = PredictionRecord(
        request_id=request_id,
        row=row,
        name=name,
        version=3,
        at=T0 + timedelta(seconds=second),
        features={"age": 31 + row, "plan": "pro", "spend": 12.5, "region": None},
        prediction="yes",
        probabilities={"no": 0.25, "yes": 0.75},
        latency_ms=4.5,
    )
    return dataclasses.replace(prediction, **changes)


def make_feedback(
    request_id: str = "req-1",
    row: int = 0,
    *,
    name: str = "shop.eu",
    label: Any = "yes",
    second: float = 60,
) -> FeedbackRecord:
    """Return the label of a served row, learnt ``second`` seconds after a fixed instant."""
    return FeedbackRecord(request_id, row, name, label, T0 + timedelta(seconds=second))


def make_model_event(
    kind: ModelEventKind = ModelEventKind.DRIFT_CHECK,
    *,
    name: str = "shop.eu",
    second: float = 0,
    **changes: Any,
) -> ModelEvent:
    """Return an event of version 3 of ``name``, ``second`` seconds after a fixed instant."""
    event = ModelEvent(
        name=name,
        kind=kind,
        at=T0 + timedelta(seconds=second),
        actor="monitor",
        reason="scheduled check",
        version=3,
        data={"psi": {"age": 0.05, "plan": 0.31}, "rows": 5_000, "drifted": ["plan"]},
    )
    return dataclasses.replace(event, **changes)


def is_utc(moment: datetime | None) -> bool:
    """Tell whether ``moment`` is a timezone-aware UTC datetime."""
    return moment is not None and moment.utcoffset() == timedelta(0)


def run_threads(work: Callable[[int], None], threads: int = THREADS) -> None:
    """Run ``work(0)`` ... ``work(threads - 1)`` at once, one thread each; re-raise failures."""
    barrier = threading.Barrier(threads)
    errors: list[BaseException] = []

    def target(index: int) -> None:
        barrier.wait()
        try:
            work(index)
        except BaseException as error:  # reported on the main thread below
            errors.append(error)

    started = [threading.Thread(target=target, args=(i,)) for i in range(threads)]
    for thread in started:
        thread.start()
    for thread in started:
        thread.join()
    assert not errors, errors
