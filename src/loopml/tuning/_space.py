"""Search spaces in Optuna's terms: one distribution per dimension, or a grid of values."""

from __future__ import annotations

import decimal
from collections.abc import Mapping

from optuna.distributions import (
    BaseDistribution,
    CategoricalDistribution,
    FloatDistribution,
    IntDistribution,
)

from loopml.spec import CategoricalDimension, Choice, Dimension, FloatDimension, IntDimension

__all__ = ["distributions", "grid_space"]


def distributions(search: Mapping[str, Dimension]) -> dict[str, BaseDistribution]:
    """Return the Optuna distribution of each dimension, for ``study.ask(...)``."""
    return {name: _distribution(dim) for name, dim in search.items()}


def grid_space(search: Mapping[str, Dimension]) -> dict[str, list[Choice]]:
    """Return every value of each dimension, for :class:`optuna.samplers.GridSampler`.

    Raises ValueError for a float dimension without a ``step``: it has no finite grid.
    """
    return {name: _values(name, dim) for name, dim in search.items()}


def _distribution(dim: Dimension) -> BaseDistribution:
    if isinstance(dim, IntDimension):
        return IntDistribution(dim.low, dim.high, log=dim.log, step=dim.step)
    if isinstance(dim, FloatDimension):
        return FloatDistribution(dim.low, dim.high, log=dim.log, step=dim.step)
    return CategoricalDistribution(dim.choices)


def _values(name: str, dim: Dimension) -> list[Choice]:
    if isinstance(dim, CategoricalDimension):
        return list(dim.choices)
    if isinstance(dim, IntDimension):
        return list(range(dim.low, dim.high + 1, dim.step))
    if dim.step is None:
        raise ValueError(
            f"the grid sampler needs a finite set of values, but {name!r} is a continuous "
            f"float range [{dim.low}, {dim.high}] with no `step`: give it a `step`"
        )
    # Decimal steps land exactly on the values Optuna's FloatDistribution accepts.
    low, step = decimal.Decimal(str(dim.low)), decimal.Decimal(str(dim.step))
    count = int((decimal.Decimal(str(dim.high)) - low) / step)
    return [float(low + i * step) for i in range(count + 1)]
