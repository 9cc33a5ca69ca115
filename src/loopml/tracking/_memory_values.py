"""Values copied into :class:`InMemoryStore` as the SQL store gives them back.

A JSON column returns lists for tuples and refuses what JSON cannot hold; copying values
in through JSON makes the in-memory store show, and refuse, the same.
"""

from __future__ import annotations

import dataclasses
import json
from collections.abc import Mapping
from typing import TypeVar

from loopml.errors import StoreError
from loopml.tracking._records import (
    ArtifactRecord,
    CellRecord,
    FeedbackRecord,
    ModelEvent,
    PredictionRecord,
    Rung,
    RunRecord,
    TrialRecord,
)
from loopml.tracking._rows import rung_row

__all__ = [
    "as_json",
    "floats",
    "stored_artifact",
    "stored_cell",
    "stored_feedback",
    "stored_model_event",
    "stored_prediction",
    "stored_run",
    "stored_trial",
]

_T = TypeVar("_T")


def as_json(value: _T, what: str) -> _T:
    """Return a copy of ``value`` as a JSON column gives it back; refuse what SQL would."""
    try:
        copy: _T = json.loads(json.dumps(value))
    except (TypeError, ValueError) as error:
        raise StoreError(
            f"{what} must be JSON serializable: {error}; nothing was written"
        ) from error
    return copy


def floats(metrics: Mapping[str, float]) -> dict[str, float]:
    """Return the metrics as plain floats, as a float map column gives them back."""
    return {key: float(value) for key, value in metrics.items()}


def stored_run(run: RunRecord) -> RunRecord:
    """Return the run as the SQL store gives it back."""
    packages = as_json(dict(run.lineage.packages), "a run's lineage")
    estimate = None if run.estimate is None else as_json(dict(run.estimate), "a run's estimate")
    return dataclasses.replace(
        run, lineage=dataclasses.replace(run.lineage, packages=packages), estimate=estimate
    )


def stored_cell(cell: CellRecord) -> CellRecord:
    """Return the cell as the SQL store gives it back."""
    return dataclasses.replace(
        cell, params=as_json(dict(cell.params), "a cell's params"), metrics=floats(cell.metrics)
    )


def stored_trial(trial: TrialRecord) -> TrialRecord:
    """Return the trial as the SQL store gives it back."""
    return dataclasses.replace(
        trial,
        params=as_json(dict(trial.params), "a trial's params"),
        metrics=floats(trial.metrics),
        rungs=tuple(Rung(**rung_row(rung)) for rung in trial.rungs),
    )


def stored_artifact(artifact: ArtifactRecord) -> ArtifactRecord:
    """Return the artifact record as the SQL store gives it back."""
    samples = [dict(row) for row in artifact.sample_rows]
    return dataclasses.replace(
        artifact,
        input_schema=as_json(dict(artifact.input_schema), "an artifact's input_schema"),
        sample_rows=tuple(as_json(samples, "an artifact's sample_rows")),
    )


def stored_prediction(prediction: PredictionRecord) -> PredictionRecord:
    """Return the prediction as the SQL store gives it back."""
    probabilities = prediction.probabilities
    return dataclasses.replace(
        prediction,
        features=as_json(dict(prediction.features), "a prediction's features"),
        prediction=as_json(prediction.prediction, "a prediction"),
        probabilities=None if probabilities is None else floats(probabilities),
        latency_ms=float(prediction.latency_ms),
    )


def stored_feedback(feedback: FeedbackRecord) -> FeedbackRecord:
    """Return the label as the SQL store gives it back."""
    return dataclasses.replace(feedback, label=as_json(feedback.label, "a feedback label"))


def stored_model_event(event: ModelEvent) -> ModelEvent:
    """Return the event as the SQL store gives it back."""
    return dataclasses.replace(event, data=as_json(dict(event.data), "a model event's data"))
