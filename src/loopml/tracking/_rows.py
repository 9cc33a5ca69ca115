"""Records to SQL rows and back, for :class:`~loopml.tracking._sql.SQLStore`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import Row

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

__all__ = [
    "artifact_record",
    "artifact_row",
    "cell_record",
    "cell_row",
    "event_record",
    "feedback_row",
    "model_event_record",
    "model_event_row",
    "prediction_record",
    "prediction_row",
    "run_record",
    "run_row",
    "rung_row",
    "trial_record",
    "trial_row",
    "version_record",
]


def run_row(run: RunRecord) -> dict[str, Any]:
    """Return the ``runs`` row of a run."""
    lineage = run.lineage
    return {
        "run_id": run.run_id,
        "pipeline": run.pipeline,
        "state": run.state.value,
        "started_at": run.started_at,
        "finished_at": run.finished_at,
        "workers": run.workers,
        "n_cells": run.n_cells,
        "n_failed": run.n_failed,
        "lineage": {
            "spec_hash": lineage.spec_hash,
            "loopml_version": lineage.loopml_version,
            "python_version": lineage.python_version,
            "packages": dict(lineage.packages),
            "git_commit": lineage.git_commit,
        },
        "host": run.host,
        "pid": run.pid,
        "heartbeat_at": run.heartbeat_at,
        "estimate": None if run.estimate is None else dict(run.estimate),
    }


def run_record(row: Row[Any]) -> RunRecord:
    """Return the run a ``runs`` row holds."""
    lineage: Mapping[str, Any] = row.lineage
    return RunRecord(
        run_id=row.run_id,
        pipeline=row.pipeline,
        state=RunState(row.state),
        started_at=row.started_at,
        finished_at=row.finished_at,
        workers=row.workers,
        n_cells=row.n_cells,
        n_failed=row.n_failed,
        lineage=Lineage(
            spec_hash=lineage["spec_hash"],
            loopml_version=lineage["loopml_version"],
            python_version=lineage["python_version"],
            packages=dict(lineage.get("packages") or {}),
            git_commit=lineage.get("git_commit"),
        ),
        host=row.host,
        pid=row.pid,
        heartbeat_at=row.heartbeat_at,
        estimate=row.estimate,
    )


def cell_row(cell: CellRecord) -> dict[str, Any]:
    """Return the ``cells`` row of a cell."""
    return {
        "cell_id": cell.cell_id,
        "run_id": cell.run_id,
        "pipeline": cell.pipeline,
        "dataset": cell.dataset,
        "model": cell.model,
        "state": cell.state.value,
        "estimator": cell.estimator,
        "params": dict(cell.params),
        "dataset_fingerprint": cell.dataset_fingerprint,
        "metrics": cell.metrics,
        "fit_seconds": cell.fit_seconds,
        "predict_seconds": cell.predict_seconds,
        "artifact_sha256": cell.artifact_sha256,
        "error": cell.error,
        "finished_at": cell.finished_at,
        "key": cell.key,
        "trial_id": cell.trial_id,
        "n_trials": cell.n_trials,
        "cached": cell.cached,
    }


def cell_record(row: Row[Any]) -> CellRecord:
    """Return the cell a ``cells`` row holds."""
    return CellRecord(
        cell_id=row.cell_id,
        run_id=row.run_id,
        pipeline=row.pipeline,
        dataset=row.dataset,
        model=row.model,
        state=CellState(row.state),
        estimator=row.estimator,
        params=row.params,
        dataset_fingerprint=row.dataset_fingerprint,
        metrics=row.metrics,
        fit_seconds=row.fit_seconds,
        predict_seconds=row.predict_seconds,
        artifact_sha256=row.artifact_sha256,
        error=row.error,
        finished_at=row.finished_at,
        key=row.key,
        trial_id=row.trial_id,
        n_trials=row.n_trials,
        cached=bool(row.cached),
    )


def rung_row(rung: Rung) -> dict[str, Any]:
    """Return a rung as the JSON object the ``trials.rungs`` list holds."""
    # Plain numbers: numpy scalars are not JSON serializable.
    return {
        "step": int(rung.step),
        "budget": float(rung.budget),
        "value": float(rung.value),
        "seconds": float(rung.seconds),
    }


def trial_row(trial: TrialRecord) -> dict[str, Any]:
    """Return the ``trials`` row of a trial."""
    return {
        "trial_id": trial.trial_id,
        "run_id": trial.run_id,
        "pipeline": trial.pipeline,
        "dataset": trial.dataset,
        "model": trial.model,
        "study_key": trial.study_key,
        "key": trial.key,
        "number": trial.number,
        "state": trial.state.value,
        "params": dict(trial.params),
        "rows": trial.rows,
        "features": trial.features,
        "rungs": [rung_row(rung) for rung in trial.rungs],
        "metrics": trial.metrics,
        "fit_seconds": trial.fit_seconds,
        "predict_seconds": trial.predict_seconds,
        "artifact_sha256": trial.artifact_sha256,
        "error": trial.error,
        "started_at": trial.started_at,
        "finished_at": trial.finished_at,
    }


def trial_record(row: Row[Any]) -> TrialRecord:
    """Return the trial a ``trials`` row holds."""
    return TrialRecord(
        trial_id=row.trial_id,
        run_id=row.run_id,
        pipeline=row.pipeline,
        dataset=row.dataset,
        model=row.model,
        study_key=row.study_key,
        key=row.key,
        number=row.number,
        state=TrialState(row.state),
        params=row.params,
        started_at=row.started_at,
        rows=row.rows,
        features=row.features,
        rungs=tuple(Rung(**rung) for rung in row.rungs),
        metrics=row.metrics,
        fit_seconds=row.fit_seconds,
        predict_seconds=row.predict_seconds,
        artifact_sha256=row.artifact_sha256,
        error=row.error,
        finished_at=row.finished_at,
    )


def artifact_row(artifact: ArtifactRecord) -> dict[str, Any]:
    """Return the ``artifacts`` row of an artifact."""
    return {
        "sha256": artifact.sha256,
        "uri": artifact.uri,
        "size_bytes": artifact.size_bytes,
        "input_schema": dict(artifact.input_schema),
        "sample_rows": [dict(sample) for sample in artifact.sample_rows],
        "created_at": artifact.created_at,
    }


def artifact_record(row: Row[Any]) -> ArtifactRecord:
    """Return the artifact an ``artifacts`` row holds."""
    return ArtifactRecord(
        sha256=row.sha256,
        uri=row.uri,
        size_bytes=row.size_bytes,
        input_schema=row.input_schema,
        sample_rows=tuple(row.sample_rows),
        created_at=row.created_at,
    )


def version_record(row: Row[Any]) -> ModelVersion:
    """Return the version a ``model_versions`` row holds."""
    return ModelVersion(
        name=row.name,
        version=row.version,
        cell_id=row.cell_id,
        run_id=row.run_id,
        artifact_sha256=row.artifact_sha256,
        metrics=row.metrics,
        created_at=row.created_at,
    )


def event_record(row: Row[Any]) -> AliasEvent:
    """Return the event an ``alias_events`` row holds."""
    return AliasEvent(
        name=row.name,
        alias=row.alias,
        kind=EventKind(row.kind),
        from_version=row.from_version,
        to_version=row.to_version,
        actor=row.actor,
        reason=row.reason,
        at=row.at,
        event_id=row.event_id,
    )


def prediction_row(record: PredictionRecord) -> dict[str, Any]:
    """Return the ``predictions`` row of a served prediction."""
    probabilities = record.probabilities
    return {
        "request_id": record.request_id,
        "row": record.row,
        "name": record.name,
        "version": record.version,
        "at": record.at,
        "features": dict(record.features),
        "prediction": record.prediction,
        "probabilities": None if probabilities is None else dict(probabilities),
        "latency_ms": float(record.latency_ms),
    }


def prediction_record(row: Row[Any]) -> PredictionRecord:
    """Return the prediction a ``predictions`` row holds."""
    return PredictionRecord(
        request_id=row.request_id,
        row=row.row,
        name=row.name,
        version=row.version,
        at=row.at,
        features=row.features,
        prediction=row.prediction,
        probabilities=row.probabilities,
        latency_ms=row.latency_ms,
    )


def feedback_row(record: FeedbackRecord) -> dict[str, Any]:
    """Return the ``feedback`` row of a label."""
    return {
        "request_id": record.request_id,
        "row": record.row,
        "name": record.name,
        "label": record.label,
        "at": record.at,
    }


def model_event_row(event: ModelEvent) -> dict[str, Any]:
    """Return the ``model_events`` row of an event, without its id (the database numbers it)."""
    return {
        "name": event.name,
        "kind": event.kind.value,
        "at": event.at,
        "actor": event.actor,
        "reason": event.reason,
        "version": event.version,
        "data": dict(event.data),
    }


def model_event_record(row: Row[Any]) -> ModelEvent:
    """Return the event a ``model_events`` row holds."""
    return ModelEvent(
        name=row.name,
        kind=ModelEventKind(row.kind),
        at=row.at,
        actor=row.actor,
        reason=row.reason,
        version=row.version,
        data=row.data,
        event_id=row.event_id,
    )
