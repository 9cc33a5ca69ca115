"""Time an estimator with no history on growing subsamples and extrapolate to all rows."""

from __future__ import annotations

import logging
import math
import time
import warnings
from collections.abc import Mapping
from typing import Any

import numpy as np

from loopml.spec import import_object

__all__ = ["calibrate"]

logger = logging.getLogger(__name__)

_FIRST_ROWS = 200
_GROWTH = 1.0
"""Growth exponent assumed for the second fit, before any growth was seen."""
_MIN_POINTS = 3
"""Sizes timed even past the budget (up to 3x): one or two points cannot separate a fixed
overhead from the per-row cost, and extrapolating an overhead is the worst error."""
_EXPONENTS = (1.0, 1.5, 2.0)
"""Candidate growth of seconds with rows, above a fixed overhead."""
_MIN_POINTS_FOR_SHAPE = 4
_RELIABLE = 0.01
"""With fewer than four fits of at least 10ms, extrapolate linearly: timer jitter on tiny
fits would pick the exponent, and a wrong steep one is off by the extrapolation factor."""
_SWITCH = 0.5
"""A steeper exponent must halve the squared relative error of the flatter one."""
_MAX_CLASSES = 50
_FAST = 0.05
"""Fits quicker than this are timed up to three times, keeping the fastest: jitter and
warm-up (lazy imports, thread pools) would otherwise dominate them."""


def calibrate(
    estimator: str,
    params: Mapping[str, Any],
    X: np.ndarray,
    y: np.ndarray,
    *,
    seconds: float = 1.0,
    seed: int = 0,
) -> float:
    """Return the predicted seconds of one fit plus predict of ``estimator`` on all of X.

    Fits on nested random subsamples of 200, 400, 800... rows until about ``seconds`` are
    spent or all rows are reached, then extrapolates ``t = t0 + k * rows**b`` (b in 1, 1.5,
    2; 1 unless four or more fits took 10ms or more) to every row. ``random_state`` is seeded
    with ``seed`` when the estimator takes one and ``params`` does not set it. Never raises
    on a failing estimator (import, parameters, fit or predict): returns NaN and logs why.
    """
    if not seconds > 0:
        raise ValueError(f"seconds must be > 0, but got {seconds!r}")
    try:
        return _calibrate(estimator, params, X, y, seconds=seconds, seed=seed)
    except Exception:
        logger.debug("calibrating %s failed", estimator, exc_info=True)
        return math.nan


def _calibrate(
    estimator: str,
    params: Mapping[str, Any],
    X: np.ndarray,
    y: np.ndarray,
    *,
    seconds: float,
    seed: int,
) -> float:
    factory = import_object(estimator)
    kwargs = dict(params)
    if "random_state" in factory(**kwargs).get_params(deep=False) and "random_state" not in kwargs:
        kwargs["random_state"] = seed
    n = len(X)
    order = _order(y, seed)
    started = time.perf_counter()
    measured: list[tuple[int, float]] = []
    for size in _sizes(n):
        if measured and not _affordable(measured, size, time.perf_counter() - started, seconds):
            break
        rows = order[:size]
        measured.append((size, _time_fit(factory, kwargs, X[rows], y[rows])))
    if measured[-1][0] == n:
        return measured[-1][1]
    return _extrapolate(measured, n)


def _affordable(measured: list[tuple[int, float]], size: int, spent: float, budget: float) -> bool:
    """Return whether the next fit should run: within budget, or needed for a third point."""
    last_rows, last_seconds = measured[-1]
    growth = _GROWTH
    if len(measured) >= 2:
        prev_rows, prev_seconds = measured[-2]
        growth = math.log(max(last_seconds / prev_seconds, 1.0)) / math.log(last_rows / prev_rows)
    expected = spent + last_seconds * (size / last_rows) ** min(growth, 2.0)
    return expected <= budget or (len(measured) < _MIN_POINTS and expected <= 3 * budget)


def _order(y: np.ndarray, seed: int) -> np.ndarray:
    """Return a random row order whose first rows hold every class (when y looks like classes)."""
    order = np.random.default_rng(seed).permutation(len(y))
    _, first = np.unique(np.asarray(y)[order], return_index=True)
    if len(first) > _MAX_CLASSES:
        return order
    return np.concatenate([order[first], np.delete(order, first)])


def _sizes(n: int) -> list[int]:
    sizes = [min(_FIRST_ROWS, n)]
    while sizes[-1] < n:
        sizes.append(min(sizes[-1] * 2, n))
    return sizes


def _time_fit(factory: Any, params: Mapping[str, Any], X: np.ndarray, y: np.ndarray) -> float:
    """Return the seconds of one fit+predict; the fastest of up to three when fits are quick."""
    best = math.inf
    for _ in range(3):
        model = factory(**params)
        # A throwaway fit on a subsample: convergence and similar warnings are noise here.
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            started = time.perf_counter()
            model.fit(X, y)
            model.predict(X)
            best = min(best, time.perf_counter() - started)
        if best >= _FAST:
            break
    return best


def _extrapolate(measured: list[tuple[int, float]], n: int) -> float:
    """Return t(n) from the law ``t0 + k * rows**b`` that best fits the measurements."""
    rows = np.array([m[0] for m in measured], dtype=float)
    spent = np.array([m[1] for m in measured])
    if len(measured) == 1:
        # One point cannot tell overhead from per-row cost: assume it is all per-row, so
        # a slow estimator is overestimated rather than underestimated.
        return float(spent[0] * n / rows[0])
    t0, k, error = _fit_affine(rows, spent)
    b = 1.0
    if sum(t >= _RELIABLE for t in spent) >= _MIN_POINTS_FOR_SHAPE:
        for steeper in _EXPONENTS[1:]:
            fit = _fit_affine(rows**steeper, spent)
            # Timing noise must not buy a steeper curve: switch only for a clearly better fit.
            if fit[2] < _SWITCH * error:
                (t0, k, error), b = fit, steeper
    return float(t0 + k * n**b)


def _fit_affine(x: np.ndarray, t: np.ndarray) -> tuple[float, float, float]:
    """Return (t0, k, relative squared error) of ``t ~ t0 + k*x`` with t0, k >= 0."""
    w = 1.0 / t
    A = np.column_stack([w, x * w])
    (t0, k), *_ = np.linalg.lstsq(A, np.ones_like(t), rcond=None)
    if t0 < 0 or k <= 0:
        # Through the origin instead: no negative overhead, no shrinking cost.
        t0, k = 0.0, float(np.sum(x * w) / np.sum((x * w) ** 2))
    error = float(np.sum((t0 * w + k * x * w - 1.0) ** 2))
    return float(t0), float(k), error
