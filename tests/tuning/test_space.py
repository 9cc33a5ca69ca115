"""Dimensions as Optuna distributions and as grids."""

from __future__ import annotations

import pytest
from optuna.distributions import CategoricalDistribution, FloatDistribution, IntDistribution

from loopml.spec import (
    CategoricalDimension,
    Dimension,
    FloatDimension,
    IntDimension,
    parse_spec,
)
from loopml.tuning import distributions, grid_space

SPEC = """\
name: shop
datasets: {eu: {sklearn: load_iris, target: target}}
metrics: {primary: accuracy}
models:
  forest:
    estimator: sklearn.ensemble.RandomForestClassifier
    search:
      n_estimators: {int: [50, 400], step: 50}
      max_depth: {int: [2, 64], log: true}
      max_features: {categorical: [sqrt, log2, 0.5, null]}
      min_impurity_decrease: {float: [1e-6, 0.01], log: true}
      max_samples: {type: float, low: 0.5, high: 1.0, step: 0.1}
      bootstrap: {categorical: [true, false]}
"""


def test_distributions_match_the_dimensions() -> None:
    search = parse_spec(SPEC).models["forest"].search
    assert distributions(search) == {
        "n_estimators": IntDistribution(50, 400, step=50),
        "max_depth": IntDistribution(2, 64, log=True),
        "max_features": CategoricalDistribution(["sqrt", "log2", 0.5, None]),
        "min_impurity_decrease": FloatDistribution(1e-6, 0.01, log=True),
        "max_samples": FloatDistribution(0.5, 1.0, step=0.1),
        "bootstrap": CategoricalDistribution([True, False]),
    }


def test_grid_space_lists_every_value() -> None:
    search: dict[str, Dimension] = {
        "n": IntDimension(low=50, high=200, step=50),
        "share": FloatDimension(low=0.1, high=0.5, step=0.1),
        "kind": CategoricalDimension(choices=["a", None]),
    }
    grid = grid_space(search)
    assert grid == {
        "n": [50, 100, 150, 200],
        "share": [0.1, 0.2, 0.3, 0.4, 0.5],
        "kind": ["a", None],
    }
    # Every grid value is one the distribution accepts (GridSampler warns otherwise).
    for name, dist in distributions(search).items():
        assert all(dist._contains(dist.to_internal_repr(v)) for v in grid[name])


def test_a_continuous_float_has_no_grid() -> None:
    with pytest.raises(ValueError, match="'lr' is a continuous float range"):
        grid_space({"lr": FloatDimension(low=0.001, high=0.1, log=True)})
