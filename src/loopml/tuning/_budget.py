"""How much work each rung of a trial does: the budget rule.

Without a pruner a trial is one rung (``single``) at the full budget: it costs exactly what
an untuned cell costs. With a pruner a trial climbs R rungs, and the pruner may stop it
after any rung but the last. Rung i gets the fraction ``reduction_factor ** -(R-1-i)`` of
the full budget (1/9, 1/3, 1 for R=3 and a factor of 3), and the fraction scales the first
of these that applies to the model:

1. ``n_estimators``: the estimator takes ``n_estimators`` (random forests, extra trees,
   gradient boosting, XGBoost, LightGBM): the number of trees, ``round(n_estimators *
   fraction)`` and at least 1.
2. ``max_iter``: a gradient-boosting estimator with ``max_iter`` (HistGradientBoosting*):
   the number of boosting iterations, scaled the same way.
3. ``folds``: k-fold validation: rung r trains and scores fold r alone, and its value is
   the mean over folds 0..r. There are k rungs with fractions (r+1)/k; ``rungs`` and
   ``reduction_factor`` do not change them.
4. ``rows``: holdout validation: a growing share of the training rows, the same prefix of
   one seeded permutation at every rung (so each rung's rows include the last one's),
   ordered so that every prefix holds the classes in proportion. A rung keeps at least
   10 rows (or all of them) and one row of each class.

Every rung trains from scratch. With k-fold validation the trees, iterations and rows rungs
train and score every fold (the value is the mean). The last rung is always the full
model: it is scored on every metric and saved as the trial's artifact (refitted on every
row after k-fold validation, as an untuned cell is).

Optuna steps: rung r is reported at step ``plan.steps[r]``, its budget in units of the
first rung's (1, 3, 9 for fractions 1/9, 1/3, 1; 1, 2, ..., k for folds). With
``min_resource=1`` successive halving then decides at each rung it is meant to (rung
promotion steps are 1, η, η², ...), and Hyperband's ``max_resource`` is ``plan.steps[-1]``.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from loopml.spec import import_object

__all__ = ["BudgetKind", "RungPlan", "budget_params", "row_prefix", "rung_plan"]

BudgetKind = Literal["single", "n_estimators", "max_iter", "folds", "rows"]
_KINDS = ("single", "n_estimators", "max_iter", "folds", "rows")
_MIN_ROWS = 10


@dataclass(frozen=True)
class RungPlan:
    """The rungs of every trial of one search: what the budget scales and by how much.

    ``fractions`` are the share of the full budget at each rung, increasing and ending at
    1.0. Raises ValueError when they do not.
    """

    kind: BudgetKind
    fractions: tuple[float, ...]
    reduction_factor: int

    def __post_init__(self) -> None:
        if self.kind not in _KINDS:
            raise ValueError(f"a budget kind is one of {', '.join(_KINDS)}, but got {self.kind!r}")
        fr = self.fractions
        increasing = all(a < b for a, b in itertools.pairwise(fr))
        if not fr or fr[0] <= 0 or fr[-1] != 1.0 or not increasing:
            raise ValueError(
                f"rung fractions must increase from above 0 to exactly 1.0, but got {fr!r}"
            )
        if self.kind == "single" and len(fr) != 1:
            raise ValueError(f"a single-rung plan has fractions (1.0,), but got {fr!r}")
        if self.reduction_factor < 2:
            raise ValueError(f"`reduction_factor` must be >= 2, but got {self.reduction_factor}")

    @property
    def rungs(self) -> int:
        """Return the number of rungs a trial that is never pruned climbs."""
        return len(self.fractions)

    @property
    def steps(self) -> tuple[int, ...]:
        """Return the Optuna step of each rung: its budget in units of the first rung's."""
        return tuple(round(f / self.fractions[0]) for f in self.fractions)

    def is_final(self, step: int) -> bool:
        """Return whether rung ``step`` is the last one (full budget, artifact saved)."""
        return step == len(self.fractions) - 1


def rung_plan(
    estimator_path: str,
    params: dict[str, Any],
    *,
    pruner: str,
    n_folds: int,
    rungs: int,
    reduction_factor: int,
) -> RungPlan:
    """Return the rungs of ``estimator_path``'s trials under ``pruner`` (see the module doc).

    ``params`` are the fixed params (used to build the estimator and read its parameter
    names); ``n_folds`` is 1 for holdout validation.
    """
    if pruner == "none":
        return RungPlan("single", (1.0,), reduction_factor)
    if rungs < 2:
        raise ValueError(f"a pruned search needs `rungs` >= 2, but got {rungs}")
    estimator_cls = import_object(estimator_path)
    names = set(estimator_cls(**params).get_params(deep=False))
    geometric = tuple(float(reduction_factor ** -(rungs - 1 - i)) for i in range(rungs))
    if "n_estimators" in names:
        return RungPlan("n_estimators", geometric, reduction_factor)
    if "max_iter" in names and "GradientBoosting" in estimator_cls.__name__:
        return RungPlan("max_iter", geometric, reduction_factor)
    if n_folds > 1:
        return RungPlan("folds", tuple((i + 1) / n_folds for i in range(n_folds)), reduction_factor)
    return RungPlan("rows", geometric, reduction_factor)


def budget_params(
    estimator_cls: Any, params: dict[str, Any], kind: BudgetKind, fraction: float
) -> dict[str, Any]:
    """Return ``params`` with the rung's share of trees or iterations (others unchanged)."""
    if kind not in ("n_estimators", "max_iter") or fraction >= 1.0:
        return dict(params)
    full = params[kind] if kind in params else estimator_cls().get_params(deep=False)[kind]
    if full is None:
        full = 100  # XGBoost leaves n_estimators unset and trains 100 trees
    return {**params, kind: max(1, round(full * fraction))}


def row_prefix(y: np.ndarray, fraction: float, *, seed: int, stratify: bool) -> np.ndarray:
    """Return the sorted positions of the rows a ``rows`` rung trains on.

    The same seeded permutation at every fraction, so smaller rungs' rows are a subset of
    larger ones'. With ``stratify`` the permutation interleaves the classes (each class's
    k-th row sits at k / class size), so any prefix holds them in proportion and the first
    rows hold one of each.
    """
    n = len(y)
    order = np.random.default_rng(seed).permutation(n)
    n_classes = 0
    if stratify:
        labels = y[order]
        position = np.empty(n)
        classes = np.unique(labels)
        for label in classes:
            members = np.flatnonzero(labels == label)
            position[members] = np.arange(len(members)) / len(members)
        order = order[np.argsort(position, kind="stable")]
        n_classes = len(classes)
    # 150 * (1/3) is 50.00000000000001 in floats: 50 rows, not 51.
    size = min(n, max(math.ceil(n * fraction - 1e-9), _MIN_ROWS, n_classes))
    return np.sort(order[:size])
