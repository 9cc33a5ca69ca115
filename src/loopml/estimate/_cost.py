"""Predict what one trial costs, from past trials or from a short calibration.

The model, per estimator (import path)::

    log(seconds) = a + b*log(rows*features) + c*log(budget) + d*log(work)

Each rung of a finished (COMPLETE or PRUNED) trial is one point: its seconds, spent at its
budget fraction, on the trial's rows x features; a trial without rungs counts once, at
budget 1, with its fit plus predict seconds. A rung's seconds are taken as the full cost of
training at that budget (not the increment over the previous rung).

``work`` is the first of ``n_estimators``, ``max_iter`` that every point's params record.
When the history varies it, its slope is fitted; when it is constant, the slope is a prior
(1 for ``n_estimators``: trees are built one after another; 0.5 for ``max_iter``: a cap
that iterative solvers often stop short of). A query without it is priced at the history's
typical value. Slopes are fitted when the data pin them down (sizes: >= 3 distinct values
spanning >= 1.5x; budgets and work: >= 2 spanning >= 1.5x), else fixed at 1 (linear) with the
intercept anchored at the observed points. See :mod:`loopml.estimate._powerlaw`.

An estimator without history falls back, in order, to: its calibration measurements (the
same law, budget 1, wider prior spread), the median of every known estimator's prediction
at the same size (basis ``"global"``, its spread widened by their disagreement), nothing
(basis ``"none"``, NaN seconds).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from loopml.estimate._powerlaw import PowerLaw, fit_law, interval
from loopml.tracking import TrialRecord, TrialState

__all__ = ["Basis", "Calibration", "CostEstimate", "CostModel"]

Basis = Literal["history", "calibration", "global", "none"]

_WORK_PARAMS = {"n_estimators": 1.0, "max_iter": 0.5}
"""Parameters that multiply the cost, with the slope assumed when history does not vary them."""

_USED_STATES = (TrialState.COMPLETE, TrialState.PRUNED)
_HISTORY_SD = 0.3
"""Prior log-spread of a trial's seconds around its law (timing noise, other params)."""
_CALIBRATION_SD = 0.5
"""Prior log-spread of a calibration: it extrapolates from subsamples."""
_BETWEEN_SD = 1.0
"""Prior log-spread between estimators, used for the global fallback."""


@dataclass(frozen=True)
class Calibration:
    """Measured (or extrapolated) seconds of one full-budget fit+predict on rows x features."""

    estimator: str
    rows: int
    features: int
    seconds: float
    params: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class CostEstimate:
    """Predicted seconds of one trial at one budget, with an 80% interval and its basis.

    ``n_points`` is how many past trials (or calibrations) the estimate rests on. With basis
    ``"none"`` the seconds and interval are NaN.
    """

    estimator: str
    seconds: float
    low: float
    high: float
    basis: Basis
    n_points: int


@dataclass
class _Points:
    size: list[float] = field(default_factory=list)
    budget: list[float] = field(default_factory=list)
    seconds: list[float] = field(default_factory=list)
    params: list[Mapping[str, Any]] = field(default_factory=list)
    trials: set[str] = field(default_factory=set)

    def add(
        self, trial: str, size: float, budget: float, seconds: float, params: Mapping[str, Any]
    ) -> None:
        if size > 0 and budget > 0 and seconds > 0 and math.isfinite(seconds):
            self.size.append(size)
            self.budget.append(budget)
            self.seconds.append(seconds)
            self.params.append(params)
            self.trials.add(trial)


@dataclass(frozen=True)
class CostModel:
    """Per-estimator cost laws from history and calibration; build with :meth:`fit`."""

    history: Mapping[str, PowerLaw]
    calibration: Mapping[str, PowerLaw]

    @classmethod
    def fit(
        cls,
        history: Sequence[tuple[str, TrialRecord]],
        *,
        calibrations: Sequence[Calibration] = (),
    ) -> CostModel:
        """Return the model fitted to (estimator import path, trial) pairs and calibrations.

        Trials that are not COMPLETE or PRUNED, or lack rows and features, are skipped.
        """
        points: defaultdict[str, _Points] = defaultdict(_Points)
        for estimator, trial in history:
            if trial.state not in _USED_STATES:
                continue
            size = float(trial.rows) * float(trial.features)
            if trial.rungs:
                for rung in trial.rungs:
                    points[estimator].add(
                        trial.trial_id, size, rung.budget, rung.seconds, trial.params
                    )
            elif trial.fit_seconds is not None:
                spent = trial.fit_seconds + (trial.predict_seconds or 0.0)
                points[estimator].add(trial.trial_id, size, 1.0, spent, trial.params)
        measured: defaultdict[str, _Points] = defaultdict(_Points)
        for i, c in enumerate(calibrations):
            measured[c.estimator].add(
                f"calibration-{i}", float(c.rows) * float(c.features), 1.0, c.seconds, c.params
            )
        return cls(
            history={e: _fit(p, _HISTORY_SD) for e, p in points.items() if p.seconds},
            calibration={e: _fit(p, _CALIBRATION_SD) for e, p in measured.items() if p.seconds},
        )

    @property
    def estimators(self) -> tuple[str, ...]:
        """Return the estimators with history, sorted."""
        return tuple(sorted(self.history))

    def law(self, estimator: str) -> PowerLaw | None:
        """Return the estimator's law from history, else from calibration, else None."""
        return self.history.get(estimator) or self.calibration.get(estimator)

    def predict(
        self,
        estimator: str,
        rows: int,
        features: int,
        budget: float = 1.0,
        params: Mapping[str, Any] | None = None,
    ) -> CostEstimate:
        """Return the predicted seconds of one trial of ``estimator`` at ``budget``.

        ``rows`` and ``features`` mean what they mean on :class:`TrialRecord` (the rows a
        trial trains on); ``params`` may set the work parameter (``n_estimators``).
        """
        if rows < 1 or features < 1:
            raise ValueError(
                f"rows and features must be >= 1, but got rows={rows}, features={features}"
            )
        if not (budget > 0 and math.isfinite(budget)):
            raise ValueError(f"budget must be a positive fraction, but got {budget!r}")
        size = float(rows) * float(features)
        sources: tuple[tuple[Basis, Mapping[str, PowerLaw]], ...] = (
            ("history", self.history),
            ("calibration", self.calibration),
        )
        for basis, laws in sources:
            if estimator in laws:
                law = laws[estimator]
                seconds, low, high = law.predict(size, budget, _work(law, params))
                return CostEstimate(estimator, seconds, low, high, basis, law.n_trials)
        if self.history:
            return self._global(estimator, size, budget)
        return CostEstimate(estimator, math.nan, math.nan, math.nan, "none", 0)

    def _global(self, estimator: str, size: float, budget: float) -> CostEstimate:
        """Return the median of the known estimators' predictions, spread by their disagreement."""
        laws = list(self.history.values())
        means, sds = zip(*(law.predict_log(size, budget, None) for law in laws), strict=True)
        centre = float(np.median(means))
        squares = float(np.sum((np.asarray(means) - np.mean(means)) ** 2))
        between = (squares + _BETWEEN_SD**2) / len(means)
        seconds, low, high = interval(centre, math.sqrt(between + float(np.median(np.square(sds)))))
        return CostEstimate(
            estimator, seconds, low, high, "global", sum(law.n_trials for law in laws)
        )


def _fit(points: _Points, prior_sd: float) -> PowerLaw:
    work_param = next(
        (p for p in _WORK_PARAMS if all(_positive(ps.get(p)) is not None for ps in points.params)),
        None,
    )
    work = np.array([float(ps[work_param]) for ps in points.params]) if work_param else None
    return fit_law(
        np.array(points.size),
        np.array(points.budget),
        work,
        np.array(points.seconds),
        n_trials=len(points.trials),
        prior_sd=prior_sd,
        work_param=work_param,
        work_prior=_WORK_PARAMS.get(work_param or "", 1.0),
    )


def _work(law: PowerLaw, params: Mapping[str, Any] | None) -> float | None:
    if law.work_param is None or params is None:
        return None
    return _positive(params.get(law.work_param))


def _positive(value: Any) -> float | None:
    """Return value as a float when it is a positive finite number, else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) and value > 0 else None
