"""Samplers and pruners by the names a spec uses for them.

Pruners are set up for the steps of :class:`RungPlan`: rung r is reported at step
``plan.steps[r]`` (1, η, η², ...), so ``min_resource=1`` is the first rung's budget.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from optuna.pruners import (
    BasePruner,
    HyperbandPruner,
    MedianPruner,
    NopPruner,
    SuccessiveHalvingPruner,
)
from optuna.samplers import BaseSampler, GridSampler, RandomSampler, TPESampler
from optuna.study import Study
from optuna.trial import FrozenTrial, TrialState

from loopml.spec import Dimension, PrunerName, SamplerName
from loopml.tuning._budget import RungPlan
from loopml.tuning._space import grid_space

__all__ = ["PRUNERS", "SAMPLERS", "make_pruner", "make_sampler"]

SAMPLERS: tuple[SamplerName, ...] = ("tpe", "random", "grid")
PRUNERS: tuple[PrunerName, ...] = ("none", "median", "successive-halving", "hyperband")


def make_sampler(name: SamplerName, *, seed: int, search: Mapping[str, Dimension]) -> BaseSampler:
    """Return the seeded sampler called ``name``; ``search`` gives the grid sampler its grid.

    Raises ValueError for an unknown name, or a grid over a float range with no ``step``.
    """
    if name == "tpe":
        return TPESampler(seed=seed)
    if name == "random":
        return RandomSampler(seed=seed)
    if name == "grid":
        return _AskAndTellGridSampler(grid_space(search), seed=seed)
    raise ValueError(f"a sampler is one of {', '.join(SAMPLERS)}, but got {name!r}")


class _AskAndTellGridSampler(GridSampler):
    """A GridSampler that never stops the study.

    GridSampler calls ``study.stop()`` once the grid is exhausted, which raises RuntimeError
    outside ``study.optimize`` (Optuna issue #4121). With ask-and-tell the driver stops after
    ``trials`` trials, and the spec check keeps ``trials`` within the grid.
    """

    def after_trial(
        self,
        study: Study,
        trial: FrozenTrial,
        state: TrialState,
        values: Sequence[float] | None,
    ) -> None:
        return None


def make_pruner(name: PrunerName, plan: RungPlan) -> BasePruner:
    """Return the pruner called ``name``, sized for ``plan``'s rungs.

    Raises ValueError for an unknown name.
    """
    if name == "none":
        return NopPruner()
    if name == "median":
        return MedianPruner(n_startup_trials=5, n_warmup_steps=0)
    if name == "successive-halving":
        return SuccessiveHalvingPruner(min_resource=1, reduction_factor=plan.reduction_factor)
    if name == "hyperband":
        return HyperbandPruner(
            min_resource=1,
            max_resource=plan.steps[-1],
            reduction_factor=plan.reduction_factor,
        )
    raise ValueError(f"a pruner is one of {', '.join(PRUNERS)}, but got {name!r}")
