"""The statistics behind a drift report: two-sample tests, effect sizes, p-value correction.

Tests and distances are scipy's (``ks_2samp``, ``chi2_contingency``, ``jensenshannon``,
``false_discovery_control``); this module prepares their inputs, and defines PSI and the
Holm step-down, which scipy does not have, and a faster equivalent of scipy's
``wasserstein_distance`` for sorted samples.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
from scipy import stats
from scipy.spatial.distance import jensenshannon

__all__ = [
    "Correction",
    "adjust_p_values",
    "chi2_test",
    "js_distance",
    "ks_test",
    "normalized_wasserstein",
    "psi",
    "wasserstein_sorted",
]

Correction = Literal["holm", "bh", "none"]

PSI_BINS = 10
PSI_EPSILON = 1e-4
"""Share given to a bin that is empty on one side, so its log ratio stays finite.

A decile emptied in the current window then adds 0.1*ln(0.1/1e-4) ~ 0.69 to the PSI: an
emptied decile is a shift worth flagging on its own.
"""


def adjust_p_values(p_values: np.ndarray, method: Correction) -> np.ndarray:
    """Return the p-values adjusted across the family (NaN entries stay NaN, not counted).

    ``"holm"``: Holm's step-down, controlling the family-wise error rate (the chance of any
    false alarm) under any dependence between tests. ``"bh"``: Benjamini-Hochberg,
    controlling the expected share of false alarms among alarms. ``"none"``: as given.
    """
    p = np.asarray(p_values, dtype=np.float64)
    out = p.copy()
    tested = np.isfinite(p)
    if method == "none" or not tested.any():
        return out
    family = p[tested]
    if method == "bh":
        out[tested] = stats.false_discovery_control(family, method="bh")
        return out
    m = family.size
    order = np.argsort(family, kind="stable")
    # The i-th smallest p-value (from 0) is multiplied by the m - i hypotheses still in
    # play; the running maximum keeps the adjusted values in the order of the raw ones.
    scaled = np.maximum.accumulate((m - np.arange(m)) * family[order])
    adjusted = np.empty(m)
    adjusted[order] = np.minimum(scaled, 1.0)
    out[tested] = adjusted
    return out


def ks_test(reference: np.ndarray, current: np.ndarray) -> tuple[float, float]:
    """Return the two-sided two-sample Kolmogorov-Smirnov statistic and p-value."""
    result = stats.ks_2samp(reference, current)
    return float(result.statistic), float(result.pvalue)


def chi2_test(table: np.ndarray) -> tuple[float, float]:
    """Return the chi-square statistic and p-value of homogeneity of a 2 x levels table.

    Without Yates's continuity correction: scipy applies it only to 2 x 2 tables, where it
    is known to be conservative, and binary features should be judged like the others.
    """
    result = stats.chi2_contingency(table, correction=False)
    return float(result.statistic), float(result.pvalue)


def js_distance(reference: np.ndarray, current: np.ndarray) -> float:
    """Return the base-2 Jensen-Shannon distance between two count vectors (in [0, 1])."""
    return float(jensenshannon(reference, current, base=2))


def psi(reference_sorted: np.ndarray, current_sorted: np.ndarray) -> float:
    """Return the population stability index over deciles of the reference.

    Bin edges are the reference's 10%, ..., 90% quantiles (repeated edges merged, so a
    feature with few distinct values gets fewer bins); a value equal to an edge falls in
    the bin below it. Both inputs must be sorted.
    """
    edges = np.unique(np.quantile(reference_sorted, np.arange(1, PSI_BINS) / PSI_BINS))
    ref = np.maximum(_bin_shares(reference_sorted, edges), PSI_EPSILON)
    cur = np.maximum(_bin_shares(current_sorted, edges), PSI_EPSILON)
    return float(np.sum((cur - ref) * np.log(cur / ref)))


def normalized_wasserstein(
    reference_sorted: np.ndarray, current_sorted: np.ndarray, std: float | None
) -> float:
    """Return the Wasserstein-1 distance in units of the reference standard deviation.

    When the reference is constant (std 0) the scale is the standard deviation of both
    samples together, which is 0, and the distance 0, only when both are the same constant.
    Both inputs must be sorted.
    """
    distance = wasserstein_sorted(reference_sorted, current_sorted)
    if distance == 0.0:
        return 0.0
    if std is not None and std > 0:
        return distance / std
    return distance / float(np.concatenate([reference_sorted, current_sorted]).std())


def wasserstein_sorted(u: np.ndarray, v: np.ndarray) -> float:
    """Return ``scipy.stats.wasserstein_distance(u, v)`` of two sorted, non-empty samples.

    The same distance, computed as the area between the two quantile functions rather
    than the two CDFs: both are step functions whose steps sit at multiples of 1/n and
    1/m, so on the integer scale t = s / (n*m) every piece is found by integer division,
    with no search. That is linear after one integer sort, 2-4x faster than scipy's on a
    100,000-row window, which the drift report's time budget needs; the tests hold it
    to scipy's result.
    """
    n, m = u.size, v.size
    ends = np.concatenate(
        (np.arange(m, n * m + 1, m, dtype=np.int64), np.arange(n, n * m + 1, n, dtype=np.int64))
    )
    ends.sort()
    widths = np.diff(ends, prepend=0)  # pieces ending on both grids get a 0-width twin
    last = ends - 1
    return float(np.dot(widths, np.abs(u[last // m] - v[last // n]))) / (n * m)


def _bin_shares(sorted_values: np.ndarray, edges: np.ndarray) -> np.ndarray:
    cuts = np.searchsorted(sorted_values, edges, side="right")
    counts = np.diff(np.concatenate(([0], cuts, [sorted_values.size])))
    return counts / sorted_values.size
