"""One rung of one trial, on the worker: train at the rung's budget and score it.

This module runs inside worker processes. It never sees Optuna nor the tracking store: the
driver sends a :class:`RungTask`, gets a :class:`RungOutcome` back, reports it to the study
and decides whether the trial climbs to the next rung. Budgets follow
:mod:`loopml.tuning._budget`.
"""

from __future__ import annotations

import math
import time
import traceback
from collections.abc import Mapping
from dataclasses import dataclass, field, fields, replace
from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.metrics import check_scoring
from sklearn.pipeline import Pipeline

from loopml.artifacts import ArtifactRef, ArtifactStore
from loopml.data import Fold, Prepared
from loopml.spec import import_object
from loopml.tuning._budget import RungPlan, budget_params, row_prefix
from loopml.tuning._scoring import timed_scores

__all__ = ["RungOutcome", "RungTask", "run_rung", "run_shared_rung", "task_fields"]

Scores = Mapping[str, float]


@dataclass(frozen=True, eq=False)
class RungTask:
    """Everything a worker needs to run rung ``step`` of trial ``number``.

    ``params`` are the fixed and sampled params, random_state included. ``metrics`` start
    with the primary one. ``carry`` matters to the ``folds`` plan only: the scores (every
    metric) of folds 0..step-1, which the previous rung's :attr:`RungOutcome.carry` hands
    on. Raises ValueError when ``step`` or ``carry`` do not fit ``plan``.
    """

    dataset: str
    model: str
    number: int
    estimator: str
    params: Mapping[str, Any]
    prepared: Prepared
    metrics: tuple[str, ...]
    plan: RungPlan
    step: int
    artifacts_root: str
    carry: tuple[Scores, ...] = ()
    warm: tuple[Any, ...] = ()
    """The previous rung's fitted estimators (one per fold), to continue rather than refit."""

    def __post_init__(self) -> None:
        if not 0 <= self.step < self.plan.rungs:
            raise ValueError(
                f"`step` is a rung index from 0 to {self.plan.rungs - 1}, but got {self.step}"
            )
        if not self.metrics:
            raise ValueError("a rung needs at least one metric, but got none")
        if self.plan.kind == "folds":
            if len(self.prepared.folds) != self.plan.rungs:
                raise ValueError(
                    f"a folds plan has one rung per fold, but got {self.plan.rungs} rungs for "
                    f"{len(self.prepared.folds)} folds"
                )
            if len(self.carry) != self.step:
                raise ValueError(
                    f"rung {self.step} of a folds plan needs the scores of the {self.step} "
                    f"earlier folds in `carry`, but got {len(self.carry)}: pass the previous "
                    "outcome's `carry`"
                )


@dataclass(frozen=True)
class RungOutcome:
    """What a worker hands back for one rung: the value to report, or the error.

    ``value`` is the primary metric at this rung (for ``folds``, the mean over the folds so
    far); ``budget`` the rung's fraction of the full budget. ``fit_seconds`` is every fit of
    the rung (the refit on all rows included), ``predict_seconds`` the time spent predicting
    one validation set (the mean over the folds scored), ``seconds`` all fitting and
    predicting together. ``metrics`` and ``artifact`` come with the last rung only.
    ``params`` are the params trained with, at this rung's budget. ``carry`` is the next
    rung's :attr:`RungTask.carry`.
    """

    dataset: str
    model: str
    number: int
    step: int
    ok: bool
    value: float = math.nan
    budget: float = math.nan
    seconds: float = 0.0
    fit_seconds: float = 0.0
    predict_seconds: float = 0.0
    metrics: Scores = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    artifact: ArtifactRef | None = None
    error: str | None = None
    carry: tuple[Scores, ...] = ()
    warm: tuple[Any, ...] = ()
    answers: Any = None
    """Last rung only: the saved model's predictions on the validation rows (at most
    ``MAX_ANSWERS``, evenly spread), what the monitor's reference profile describes."""


MAX_ANSWERS = 10_000


def run_rung(task: RungTask) -> RungOutcome:
    """Train and score one rung; on the last rung also save the pipeline. Never raises."""
    try:
        return _run(task)
    except Exception:
        return RungOutcome(
            task.dataset,
            task.model,
            task.number,
            task.step,
            ok=False,
            budget=task.plan.fractions[task.step],
            params=dict(task.params),
            error=traceback.format_exc(),
        )


def task_fields(task: RungTask) -> dict[str, Any]:
    """Return every field of ``task`` but its prepared data, for :func:`run_shared_rung`."""
    return {f.name: getattr(task, f.name) for f in fields(task) if f.name != "prepared"}


def run_shared_rung(task: Mapping[str, Any], prepared: Prepared) -> RungOutcome:
    """Return :func:`run_rung` of the task ``task`` describes, with ``prepared`` as its data.

    The worker's side of sending a dataset's prepared data once for all its tasks: the
    driver sends :func:`task_fields` with each task and the data once (an executor's
    ``share``), and the worker puts them back together.
    """
    return run_rung(RungTask(**task, prepared=prepared))


def _run(task: RungTask) -> RungOutcome:
    plan, prepared = task.plan, task.prepared
    fraction = plan.fractions[task.step]
    final = plan.is_final(task.step)
    estimator_cls = import_object(task.estimator)
    params = budget_params(estimator_cls, dict(task.params), plan.kind, fraction)
    template = estimator_cls(**params)
    # Folds carry every metric to the last rung, which averages them; otherwise only the
    # last rung needs more than the primary metric.
    metrics = task.metrics if final or plan.kind == "folds" else task.metrics[:1]
    scorer = check_scoring(template, scoring=list(metrics))
    folds = (prepared.folds[task.step],) if plan.kind == "folds" else prepared.folds
    fit_seconds = predict_seconds = 0.0
    scored: list[Scores] = []
    fitted = None
    # Trees and boosting iterations grow rung to rung: continue the previous rung's model
    # (warm start) instead of refitting, so a trial that runs every rung costs one fit.
    warm = plan.kind in ("n_estimators", "max_iter") and "warm_start" in template.get_params()
    grown: list[Any] = []
    for i, fold in enumerate(folds):
        X, y = _training_rows(fold, plan, fraction, prepared)
        if warm and i < len(task.warm):
            fitted = task.warm[i]
            fitted.set_params(**params, warm_start=True)
        else:
            fitted = clone(template)
        started = time.perf_counter()
        fitted.fit(X, y)
        fit_seconds += time.perf_counter() - started
        if warm:
            fitted.set_params(warm_start=bool(params.get("warm_start", False)))
            grown.append(fitted)
        scores, seconds = timed_scores(scorer, fitted, fold.X_valid, fold.y_valid)
        predict_seconds += seconds
        scored.append({name: float(scores[name]) for name in metrics})
    carry = (*task.carry, *scored) if plan.kind == "folds" else ()
    means = _means(carry or tuple(scored), metrics)
    outcome = RungOutcome(
        task.dataset,
        task.model,
        task.number,
        task.step,
        ok=True,
        value=means[task.metrics[0]],
        budget=fraction,
        seconds=fit_seconds + predict_seconds,
        fit_seconds=fit_seconds,
        predict_seconds=predict_seconds / len(folds),
        params=params,
        carry=carry,
    )
    if not final:
        return replace(outcome, warm=tuple(grown))
    refit_seconds = 0.0
    if prepared.refit:
        # k-fold scores estimate the model; the artifact is fitted on every row, as
        # GridSearchCV(refit=True) does.
        fitted = clone(template)
        started = time.perf_counter()
        fitted.fit(prepared.X_final, prepared.y_final)
        refit_seconds = time.perf_counter() - started
    pipeline = Pipeline([("preprocess", prepared.final_preprocessor), ("model", fitted)])
    artifact = ArtifactStore(task.artifacts_root).save(pipeline)
    return replace(
        outcome,
        seconds=outcome.seconds + refit_seconds,
        fit_seconds=fit_seconds + refit_seconds,
        metrics=means,
        artifact=artifact,
        answers=_answers(fitted, prepared),
    )


def _answers(fitted: Any, prepared: Prepared) -> np.ndarray:
    """Return the saved model's answers on the rows :attr:`Prepared.X_raw_valid` holds.

    Computed here, where the model is in memory, so that registering it later does not
    load the artifact again just to profile its answers.
    """
    X = prepared.X_final if prepared.refit else prepared.folds[0].X_valid
    return np.asarray(fitted.predict(X[answer_rows(len(X))]))


def answer_rows(n: int) -> np.ndarray:
    """Return the positions of the rows (of ``n``) whose answers a profile keeps: all of
    them, or ``MAX_ANSWERS`` evenly spread. Workers and the driver pick the same ones."""
    if n <= MAX_ANSWERS:
        return np.arange(n)
    return np.linspace(0, n - 1, MAX_ANSWERS).astype(int)


def _training_rows(
    fold: Fold, plan: RungPlan, fraction: float, prepared: Prepared
) -> tuple[np.ndarray, np.ndarray]:
    if plan.kind != "rows" or fraction >= 1.0:
        return fold.X_train, fold.y_train
    rows = row_prefix(
        fold.y_train,
        fraction,
        seed=prepared.seed,
        stratify=prepared.task == "classification",
    )
    return fold.X_train[rows], fold.y_train[rows]


def _means(scored: tuple[Scores, ...], metrics: tuple[str, ...]) -> dict[str, float]:
    return {name: float(np.mean([s[name] for s in scored])) for name in metrics}
