"""Realized performance: score logged predictions against the labels that came back.

Metrics are scikit-learn scorers, called on a *replay* estimator whose ``predict`` and
``predict_proba`` give back the logged outputs: the scorer computes exactly what it
computed at training time (same sign convention, greater is better), with nothing
re-implemented here.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin
from sklearn.metrics import get_scorer

from loopml.errors import InputError
from loopml.monitoring._labels import align_labels
from loopml.spec import metric_task

__all__ = ["RealizedMetrics", "metric_dropped", "realized_metrics"]

Task = Literal["classification", "regression"]


@dataclass(frozen=True)
class RealizedMetrics(Mapping[str, float]):
    """Scores of logged predictions: a read-only mapping of metric name -> score.

    Only metrics that could be computed are in the mapping; ``notes`` says why each of the
    others is missing (no probabilities logged, one class only, ...) and repeats any
    warning a computed one raised. ``rows`` is how many rows were scored (those with
    both a label and a prediction); ``as_strings`` is True when labels and predictions
    had different types and were compared as strings.
    """

    scores: Mapping[str, float]
    rows: int
    notes: Mapping[str, str] = field(default_factory=dict)
    as_strings: bool = False

    def __getitem__(self, name: str) -> float:
        return self.scores[name]

    def __iter__(self) -> Iterator[str]:
        return iter(self.scores)

    def __len__(self) -> int:
        return len(self.scores)


class _ReplayClassifier(ClassifierMixin, BaseEstimator):  # type: ignore[misc]
    """A fitted classifier whose label for row ``i`` (X[i, 0] == i) is the logged one."""

    def __init__(self, predictions: np.ndarray, classes: np.ndarray) -> None:
        self.predictions = predictions
        self.classes = classes  # an __init__ parameter: BaseEstimator's repr reads it back
        self.classes_ = classes

    def predict(self, X: np.ndarray) -> np.ndarray:
        out: np.ndarray = self.predictions[X[:, 0]]
        return out


class _ReplayProbabilisticClassifier(_ReplayClassifier):
    """A replayed classifier that also gives back the logged class probabilities.

    A separate class rather than a ``predict_proba`` that raises: scorers choose their
    response method by what the estimator has, and report a missing one clearly.
    """

    def __init__(
        self, predictions: np.ndarray, classes: np.ndarray, probabilities: np.ndarray
    ) -> None:
        super().__init__(predictions, classes)
        self.probabilities = probabilities

    def predict_proba(self, X: np.ndarray) -> np.ndarray:
        out: np.ndarray = self.probabilities[X[:, 0]]
        return out


class _ReplayRegressor(RegressorMixin, BaseEstimator):  # type: ignore[misc]
    """A fitted regressor whose prediction for row ``i`` (X[i, 0] == i) is the logged one."""

    def __init__(self, predictions: np.ndarray) -> None:
        self.predictions = predictions

    def predict(self, X: np.ndarray) -> np.ndarray:
        out: np.ndarray = self.predictions[X[:, 0]]
        return out


def realized_metrics(
    metrics: Sequence[str],
    *,
    task: Task,
    y_true: Sequence[Any] | np.ndarray | pd.Series,
    y_pred: Sequence[Any] | np.ndarray | pd.Series,
    probabilities: Sequence[Mapping[str, float] | None] | None = None,
) -> RealizedMetrics:
    """Return the scores of logged predictions ``y_pred`` against their labels ``y_true``.

    ``metrics`` are scikit-learn scorer names of ``task`` ("accuracy", "f1", "roc_auc",
    "neg_log_loss", "r2", "neg_mean_absolute_error", ...); InputError for an unknown name or
    one of the other task. ``probabilities`` (classification only, row-aligned) are the
    logged ``{class label as str: probability}``, used by the scorers that need them.

    Rows whose label or prediction is missing (None or NaN) are left out. Labels of
    another type than the predictions are converted to the predictions' type when each
    reads as one (a label ``"1"`` matches a prediction ``1``), else all are compared as
    strings (see :mod:`loopml.monitoring._labels`). A metric that cannot be computed is
    left out of the result, with the reason in ``notes``, rather than raising.
    """
    names = _check_metrics(metrics, task)
    truth = _objects(y_true, "y_true")
    predicted = _objects(y_pred, "y_pred")
    if truth.size != predicted.size:
        raise InputError(
            f"`y_true` and `y_pred` must be row-aligned, but got {truth.size} labels and "
            f"{predicted.size} predictions"
        )
    proba = None
    if probabilities is not None and task == "classification":
        proba = _probability_frame(probabilities, truth.size)
    kept = ~(pd.isna(truth) | pd.isna(predicted))
    truth, predicted = truth[kept], predicted[kept]
    rows = int(truth.size)
    if rows == 0:
        return RealizedMetrics(
            scores={},
            rows=0,
            notes={n: "no row has both a label and a prediction" for n in names},
        )
    X = np.arange(rows).reshape(-1, 1)
    if task == "regression":
        replay = _Replay(_ReplayRegressor(_numbers(predicted, "y_pred")), _numbers(truth, "y_true"))
    else:
        replay = _replay_classifier(truth, predicted, proba, kept)
    values: dict[str, float] = {}
    notes: dict[str, str] = {}
    for name in names:
        value, note = _score(name, replay.estimator, X, replay.y_true, rows, replay.no_proba)
        if value is not None:
            values[name] = value
        if note:
            notes[name] = note
    return RealizedMetrics(scores=values, rows=rows, notes=notes, as_strings=replay.as_strings)


@dataclass(frozen=True)
class _Replay:
    """The estimator to score, the labels to score it on, and why it may lack probabilities."""

    estimator: BaseEstimator
    y_true: np.ndarray
    as_strings: bool = False
    no_proba: str = "none were logged"


def _replay_classifier(
    truth: np.ndarray, predicted: np.ndarray, proba: pd.DataFrame | None, kept: np.ndarray
) -> _Replay:
    matrix = None
    keys: list[str] = []
    no_proba = "none were logged"
    if proba is not None and proba.columns.size:
        incomplete = np.flatnonzero(proba.isna().any(axis=1).to_numpy() & kept)
        if incomplete.size:
            no_proba = (
                f"the logged ones are incomplete (row {incomplete[0]} lacks a probability for "
                f"some of the classes {[str(k) for k in proba.columns]})"
            )
        else:
            keys = [str(k) for k in proba.columns]
            matrix = proba[kept].to_numpy(dtype=np.float64)
    aligned = align_labels(truth, predicted, keys)
    estimator: BaseEstimator
    if matrix is not None:
        # Scorers read column j as the probability of classes_[j], sorted like
        # scikit-learn sorts the classes it learns.
        order = np.argsort(aligned.keys, kind="stable")
        estimator = _ReplayProbabilisticClassifier(
            aligned.y_pred, aligned.keys[order], matrix[:, order]
        )
    else:
        classes = np.unique(np.concatenate([aligned.y_true, aligned.y_pred]))
        estimator = _ReplayClassifier(aligned.y_pred, classes)
    return _Replay(estimator, aligned.y_true, aligned.as_strings, no_proba)


def metric_dropped(
    reference: float, realized: float, *, margin: float, relative: bool = False
) -> bool:
    """Return whether ``realized`` fell more than ``margin`` below ``reference``.

    Scores are greater-is-better, as scikit-learn scorers give them (a loss is negated:
    ``neg_log_loss``). With ``relative=True`` the margin is a fraction of
    ``abs(reference)``: 0.05 allows a 5% fall. A score equal to the threshold has not
    dropped. Both scores must be finite: leave out metrics that could not be computed.
    """
    for name, value in (("reference", reference), ("realized", realized), ("margin", margin)):
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            raise InputError(f"`{name}` must be a number, but got {value!r}")
        if not math.isfinite(value):
            raise InputError(
                f"`{name}` must be finite, but got {value!r}: a metric that could not be "
                "computed cannot be compared (RealizedMetrics.notes says why it is missing)"
            )
    if margin < 0:
        raise InputError(
            f"`margin` must be >= 0, but got {margin!r}: it is how far a score may fall "
            "before it counts as a drop, e.g. 0.02"
        )
    allowed = margin * abs(reference) if relative else margin
    return float(realized) < float(reference) - allowed


def _score(
    name: str,
    estimator: BaseEstimator,
    X: np.ndarray,
    y_true: np.ndarray,
    rows: int,
    missing_proba: str,
) -> tuple[float | None, str]:
    """Return the score (None when it cannot be computed) and a note (or "")."""
    scorer = get_scorer(name)
    with warnings.catch_warnings(record=True) as caught:
        # Kept as notes: the caller decides whether an ill-defined score matters.
        warnings.simplefilter("always")
        try:
            value = float(scorer(estimator, X, y_true))
        except AttributeError:
            return None, f"needs class probabilities, and {missing_proba}"
        except (ValueError, TypeError) as exc:
            return None, f"could not be computed on {rows} rows: {exc}"
    warned = "; ".join(dict.fromkeys(str(w.message) for w in caught))
    if not math.isfinite(value):
        return None, f"came out {value} on {rows} rows" + (f": {warned}" if warned else "")
    return value, f"computed with a warning: {warned}" if warned else ""


def _check_metrics(metrics: Sequence[str], task: Task) -> list[str]:
    if task not in ("classification", "regression"):
        raise InputError(f"`task` must be 'classification' or 'regression', but got {task!r}")
    if isinstance(metrics, str):
        raise InputError(
            f"`metrics` must be a sequence of scorer names, but got the string {metrics!r}: "
            f"pass [{metrics!r}]"
        )
    names = list(dict.fromkeys(metrics))
    for name in names:
        found = metric_task(name) if isinstance(name, str) else None
        if found is None:
            raise InputError(
                f"`metrics` must be scikit-learn scorer names, but got {name!r}: see "
                "sklearn.metrics.get_scorer_names() (e.g. 'accuracy', 'f1', 'r2')"
            )
        if found != task:
            raise InputError(
                f"metric {name!r} is a {found} metric, but the task is {task!r}: use a "
                f"{task} scorer such as {'accuracy' if task == 'classification' else 'r2'!r}"
            )
    return names


def _objects(values: Sequence[Any] | np.ndarray | pd.Series, what: str) -> np.ndarray:
    if isinstance(values, str | bytes | Mapping) or not hasattr(values, "__len__"):
        raise InputError(f"`{what}` must be a sequence of values, but got {type(values).__name__}")
    items = values.tolist() if isinstance(values, np.ndarray | pd.Series) else list(values)
    out = np.empty(len(items), dtype=object)
    out[:] = items
    if out.ndim != 1:
        raise InputError(f"`{what}` must hold one value per row, but got nested values")
    return out


def _numbers(values: np.ndarray, what: str) -> np.ndarray:
    converted = pd.to_numeric(pd.Series(values), errors="coerce")
    bad = converted.isna().to_numpy()
    if bad.any():
        raise InputError(
            f"`{what}` must hold numbers for a regression, but got {values[bad][0]!r}: "
            "log numeric predictions and labels"
        )
    return converted.to_numpy(dtype=np.float64)


def _probability_frame(
    probabilities: Sequence[Mapping[str, float] | None], rows: int
) -> pd.DataFrame:
    if isinstance(probabilities, Mapping) or len(probabilities) != rows:
        got = "a mapping" if isinstance(probabilities, Mapping) else f"{len(probabilities)}"
        raise InputError(
            f"`probabilities` must be one mapping per row ({rows} rows), but got {got}: "
            "pass the logged {class: probability} of each row"
        )
    # A row without probabilities becomes a row of NaN, so it is reported, not guessed.
    return pd.DataFrame.from_records([p if p is not None else {} for p in probabilities])
