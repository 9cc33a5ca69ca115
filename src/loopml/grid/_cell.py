"""One cell of the grid: train and validate one model on one prepared dataset.

This module runs inside worker processes. It must stay importable without the driver's
state and must never touch the tracking store: it returns a :class:`CellOutcome` and the
driver records it.
"""

from __future__ import annotations

import functools
import time
import traceback
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sklearn.base import clone
from sklearn.metrics import check_scoring
from sklearn.pipeline import Pipeline

from loopml.artifacts import ArtifactRef, ArtifactStore
from loopml.data import Prepared
from loopml.spec import import_object

__all__ = ["CellOutcome", "CellTask", "run_cell"]

_RESPONSE_METHODS = ("predict", "predict_proba", "decision_function", "predict_log_proba")


@dataclass(frozen=True, eq=False)
class CellTask:
    """Everything a worker needs to run one (dataset, model) cell."""

    dataset: str
    model: str
    estimator: str
    params: Mapping[str, Any]
    prepared: Prepared
    metrics: tuple[str, ...]
    artifacts_root: str


@dataclass(frozen=True)
class CellOutcome:
    """What a worker hands back: metrics, timings and the saved artifact, or the error."""

    dataset: str
    model: str
    ok: bool
    params: Mapping[str, Any] = field(default_factory=dict)
    metrics: Mapping[str, float] = field(default_factory=dict)
    fit_seconds: float | None = None
    predict_seconds: float | None = None
    artifact: ArtifactRef | None = None
    error: str | None = None


def run_cell(task: CellTask) -> CellOutcome:
    """Train, score on every fold, save the deployable pipeline; never raises."""
    try:
        return _run(task)
    except Exception:
        return CellOutcome(task.dataset, task.model, ok=False, error=traceback.format_exc())


def _run(task: CellTask) -> CellOutcome:
    estimator_cls = import_object(task.estimator)
    params = dict(task.params)
    template = estimator_cls(**params)
    # Reproducible by default: seed estimators that take a random_state and were given none.
    if "random_state" in template.get_params(deep=False) and "random_state" not in params:
        params["random_state"] = task.prepared.seed
        template = estimator_cls(**params)
    scorer = check_scoring(template, scoring=list(task.metrics))
    fit_seconds = predict_seconds = 0.0
    sums = dict.fromkeys(task.metrics, 0.0)
    fitted = None
    for fold in task.prepared.folds:
        fitted = clone(template)
        started = time.perf_counter()
        fitted.fit(fold.X_train, fold.y_train)
        fit_seconds += time.perf_counter() - started
        scores, seconds = _timed_scores(scorer, fitted, fold.X_valid, fold.y_valid)
        predict_seconds += seconds
        for name in task.metrics:
            sums[name] += float(scores[name])
    n = len(task.prepared.folds)
    if task.prepared.refit:
        fitted = clone(template)
        started = time.perf_counter()
        fitted.fit(task.prepared.X_final, task.prepared.y_final)
        fit_seconds += time.perf_counter() - started
    pipeline = Pipeline([("preprocess", task.prepared.final_preprocessor), ("model", fitted)])
    artifact = ArtifactStore(Path(task.artifacts_root)).save(pipeline)
    return CellOutcome(
        task.dataset,
        task.model,
        ok=True,
        params=params,
        metrics={name: total / n for name, total in sums.items()},
        fit_seconds=fit_seconds,
        predict_seconds=predict_seconds / n,
        artifact=artifact,
    )


def _timed_scores(
    scorer: Callable[..., Mapping[str, float]], estimator: Any, X: Any, y: Any
) -> tuple[Mapping[str, float], float]:
    """Return the scores and the seconds spent inside the estimator's response methods.

    The scorer calls predict / predict_proba itself (once each, cached across metrics);
    timing wrappers set on the instance measure just those calls, then are removed so
    they never reach the saved artifact.
    """
    spent = [0.0]
    wrapped = []
    for name in _RESPONSE_METHODS:
        method = getattr(estimator, name, None)
        if method is None or not callable(method):
            continue

        @functools.wraps(method)  # sklearn looks the method up by its __name__
        def timed(*args: Any, _method: Any = method, **kwargs: Any) -> Any:
            started = time.perf_counter()
            try:
                return _method(*args, **kwargs)
            finally:
                spent[0] += time.perf_counter() - started

        setattr(estimator, name, timed)
        wrapped.append(name)
    try:
        scores = scorer(estimator, X, y)
    finally:
        for name in wrapped:
            delattr(estimator, name)
    return scores, spent[0]
