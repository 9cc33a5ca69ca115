"""Fit one estimator's cost as a power law of data size, budget and work, in log space.

``log(seconds) = a + b*log(rows*features) + c*log(budget) + d*log(work)``, where ``work`` is
a parameter that multiplies the cost (``n_estimators``). Every slope is fitted by least
squares only when the history varies it enough to pin it down; otherwise it is fixed at a
prior (1: linear, the usual for trees and linear models) and the intercept anchors the law
at the observed points. Fitted slopes are kept within physically plausible bounds.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

__all__ = ["PowerLaw", "fit_law", "interval"]

_Z80 = 1.2816
"""Standard normal quantile for a central 80% interval."""

_PRIOR_SLOPE_SD = 0.25
"""How far off a fixed (prior) slope may be, per unit of log-distance from the data."""

_PRIOR_WEIGHT = 3.0
"""Pseudo degrees of freedom of the prior residual spread: few points lean on the prior."""

_MIN_SPAN = math.log(1.5)
"""A column pins its slope down only when it spans at least 1.5x."""

_BOUNDS = ((0.25, 2.5), (0.1, 1.5), (0.0, 1.5))
"""Plausible slopes for size, budget and work; a fitted slope outside is clipped."""

_MIN_DISTINCT = (3, 2, 2)
"""Distinct values a column needs before its slope is fitted (sizes are confounded with
datasets, so they need more)."""


@dataclass(frozen=True, eq=False)
class PowerLaw:
    """One estimator's cost law, in log space around the centre of its data.

    ``slopes`` and ``centers`` are for (size, budget, work); a work slope of 0 with a NaN
    centre means the history does not record the work parameter, so it is ignored.
    ``free`` says which slopes were fitted (the others are priors or clipped fits).
    ``sd`` is the residual log-spread, pooled with a prior spread when points are few.
    """

    intercept: float
    slopes: tuple[float, float, float]
    centers: tuple[float, float, float]
    free: tuple[bool, bool, bool]
    sd: float
    n_trials: int
    n_points: int
    work_param: str | None
    """The parameter read as work (``n_estimators``), None when the history lacks one."""
    cov: np.ndarray
    """``inv(X'X)`` over the intercept and the free columns, for the prediction interval."""

    @property
    def size_slope(self) -> float:
        return self.slopes[0]

    @property
    def budget_slope(self) -> float:
        return self.slopes[1]

    @property
    def work_slope(self) -> float:
        return self.slopes[2]

    def predict_log(self, size: float, budget: float, work: float | None) -> tuple[float, float]:
        """Return the mean and standard deviation of log(seconds) at this point."""
        x = [math.log(size), math.log(budget), self.centers[2]]
        if work is not None and not math.isnan(self.centers[2]):
            x[2] = math.log(work)
        dx = [0.0 if math.isnan(c) else xi - c for xi, c in zip(x, self.centers, strict=True)]
        mean = self.intercept + sum(s * d for s, d in zip(self.slopes, dx, strict=True))
        row = np.array([1.0, *(d for d, f in zip(dx, self.free, strict=True) if f)])
        var = self.sd**2 * (1.0 + float(row @ self.cov @ row))
        var += sum((_PRIOR_SLOPE_SD * d) ** 2 for d, f in zip(dx, self.free, strict=True) if not f)
        return mean, math.sqrt(var)

    def predict(self, size: float, budget: float, work: float | None) -> tuple[float, float, float]:
        """Return (seconds, low, high): the median and a central 80% interval."""
        return interval(*self.predict_log(size, budget, work))


def interval(mean: float, sd: float) -> tuple[float, float, float]:
    """Return (median, low, high) seconds of a central 80% interval of log-normal seconds."""
    return math.exp(mean), math.exp(mean - _Z80 * sd), math.exp(mean + _Z80 * sd)


def fit_law(
    size: np.ndarray,
    budget: np.ndarray,
    work: np.ndarray | None,
    seconds: np.ndarray,
    *,
    n_trials: int,
    prior_sd: float,
    work_param: str | None = None,
    work_prior: float = 1.0,
) -> PowerLaw:
    """Return the law fitted to these points (all positive; ``work`` None when unrecorded)."""
    y = np.log(seconds)
    columns = [np.log(size), np.log(budget), np.log(work) if work is not None else None]
    centers = tuple(float(c.mean()) if c is not None else math.nan for c in columns)
    slopes = [1.0, 1.0, work_prior if work is not None else 0.0]
    free = [c is not None and _pins_down(c, k) for c, k in zip(columns, _MIN_DISTINCT, strict=True)]
    n = len(y)
    while True:
        # Too few points for the free slopes: give up the least reliable ones first.
        for j in (2, 0, 1):
            if free[j] and n <= 1 + sum(free):
                free[j] = False
        offset = np.zeros(n)
        for j, c in enumerate(columns):
            if c is not None and not free[j]:
                offset += slopes[j] * (c - centers[j])
        X = np.column_stack(
            [np.ones(n)]
            + [c - centers[j] for j, c in enumerate(columns) if free[j] and c is not None]
        )
        beta, *_ = np.linalg.lstsq(X, y - offset, rcond=None)
        fitted = [j for j in range(3) if free[j]]
        clipped = False
        for k, j in enumerate(fitted, start=1):
            lo, hi = _BOUNDS[j]
            if not lo <= beta[k] <= hi:
                slopes[j], free[j], clipped = float(np.clip(beta[k], lo, hi)), False, True
        if not clipped:
            break
    for k, j in enumerate(fitted, start=1):
        slopes[j] = float(beta[k])
    residual = y - offset - X @ beta
    dof = n - X.shape[1]
    var = (float(residual @ residual) + _PRIOR_WEIGHT * prior_sd**2) / (dof + _PRIOR_WEIGHT)
    return PowerLaw(
        intercept=float(beta[0]),
        slopes=(slopes[0], slopes[1], slopes[2]),
        centers=(centers[0], centers[1], centers[2]),
        free=(free[0], free[1], free[2]),
        sd=math.sqrt(var),
        n_trials=n_trials,
        n_points=n,
        work_param=work_param if work is not None else None,
        cov=np.linalg.pinv(X.T @ X),
    )


def _pins_down(values: np.ndarray, min_distinct: int) -> bool:
    distinct = np.unique(np.round(values, 9))
    return len(distinct) >= min_distinct and float(distinct[-1] - distinct[0]) >= _MIN_SPAN
