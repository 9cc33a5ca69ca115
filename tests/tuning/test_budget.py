"""The budget rule: which plan each estimator gets, its fractions, steps and row prefixes."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest

from loopml.tuning import RungPlan, row_prefix, rung_plan
from loopml.tuning._budget import budget_params

NINTHS = (1 / 9, 1 / 3, 1.0)


@pytest.mark.parametrize(
    ("estimator", "pruner", "n_folds", "rungs", "factor", "kind", "fractions"),
    [
        ("sklearn.ensemble.RandomForestClassifier", "hyperband", 1, 3, 3, "n_estimators", NINTHS),
        ("sklearn.ensemble.RandomForestClassifier", "median", 5, 3, 3, "n_estimators", NINTHS),
        (
            "sklearn.ensemble.GradientBoostingRegressor",
            "median",
            1,
            2,
            4,
            "n_estimators",
            (0.25, 1.0),
        ),
        (
            "sklearn.ensemble.HistGradientBoostingClassifier",
            "successive-halving",
            1,
            3,
            3,
            "max_iter",
            NINTHS,
        ),
        (
            "sklearn.linear_model.LogisticRegression",
            "median",
            5,
            3,
            3,
            "folds",
            (0.2, 0.4, 0.6, 0.8, 1.0),
        ),
        ("sklearn.linear_model.LogisticRegression", "hyperband", 1, 3, 3, "rows", NINTHS),
        (
            "sklearn.neighbors.KNeighborsClassifier",
            "median",
            1,
            4,
            2,
            "rows",
            (0.125, 0.25, 0.5, 1.0),
        ),
        ("sklearn.ensemble.RandomForestClassifier", "none", 5, 3, 3, "single", (1.0,)),
        ("sklearn.linear_model.LogisticRegression", "none", 1, 3, 3, "single", (1.0,)),
    ],
)
def test_rung_plan(
    estimator: str,
    pruner: str,
    n_folds: int,
    rungs: int,
    factor: int,
    kind: str,
    fractions: tuple[float, ...],
) -> None:
    plan = rung_plan(
        estimator, {}, pruner=pruner, n_folds=n_folds, rungs=rungs, reduction_factor=factor
    )
    assert plan.kind == kind
    assert plan.fractions == pytest.approx(fractions)
    assert plan.fractions[-1] == 1.0 and plan.reduction_factor == factor


@pytest.mark.parametrize(
    ("plan", "steps"),
    [
        (RungPlan("n_estimators", NINTHS, 3), (1, 3, 9)),
        (RungPlan("rows", (0.25, 0.5, 1.0), 2), (1, 2, 4)),
        (RungPlan("folds", (0.2, 0.4, 0.6, 0.8, 1.0), 3), (1, 2, 3, 4, 5)),
        (RungPlan("single", (1.0,), 3), (1,)),
    ],
)
def test_steps_count_the_budget_in_first_rungs(plan: RungPlan, steps: tuple[int, ...]) -> None:
    assert plan.steps == steps
    assert plan.rungs == len(steps) and plan.is_final(len(steps) - 1)
    assert plan.is_final(0) == (len(steps) == 1)


@pytest.mark.parametrize(
    ("kind", "fractions", "factor", "message"),
    [
        ("trees", (1.0,), 3, "a budget kind is one of"),
        ("rows", (0.5, 0.9), 3, "must increase from above 0 to exactly 1.0"),
        ("rows", (0.5, 0.5, 1.0), 3, "must increase"),
        ("rows", (0.0, 1.0), 3, "from above 0"),
        ("rows", (), 3, "but got ()"),
        ("single", (0.5, 1.0), 3, "a single-rung plan has fractions (1.0,)"),
        ("rows", (0.5, 1.0), 1, "`reduction_factor` must be >= 2, but got 1"),
    ],
)
def test_rung_plan_refuses_bad_fractions(
    kind: Any, fractions: tuple[float, ...], factor: int, message: str
) -> None:
    with pytest.raises(ValueError, match=re.escape(message)):
        RungPlan(kind, fractions, factor)


def test_rung_plan_builds_the_estimator_with_the_fixed_params() -> None:
    with pytest.raises(TypeError, match="n_trees"):
        rung_plan(
            "sklearn.ensemble.RandomForestClassifier",
            {"n_trees": 5},
            pruner="median",
            n_folds=1,
            rungs=3,
            reduction_factor=3,
        )


@pytest.mark.parametrize(
    ("params", "fraction", "expected"),
    [
        ({"n_estimators": 27}, 1 / 9, 3),
        ({"n_estimators": 27}, 1 / 3, 9),
        ({"n_estimators": 4}, 1 / 9, 1),  # at least one tree
        ({}, 1 / 9, 11),  # the estimator's default: 100 trees
        ({"n_estimators": None}, 0.5, 50),  # XGBoost's unset count means 100
    ],
)
def test_budget_params_scale_the_trees(
    params: dict[str, Any], fraction: float, expected: int
) -> None:
    from sklearn.ensemble import RandomForestClassifier

    scaled = budget_params(RandomForestClassifier, params, "n_estimators", fraction)
    assert scaled["n_estimators"] == expected


def test_the_full_budget_keeps_params_as_given() -> None:
    from sklearn.ensemble import RandomForestClassifier

    params = {"n_estimators": None, "max_depth": 3}
    assert budget_params(RandomForestClassifier, params, "n_estimators", 1.0) == params
    assert budget_params(RandomForestClassifier, params, "rows", 0.5) == params


def test_row_prefixes_are_nested_and_stratified() -> None:
    y = np.array([0] * 160 + [1] * 40)
    np.random.default_rng(3).shuffle(y)
    small, medium, full = (row_prefix(y, f, seed=0, stratify=True) for f in NINTHS)
    assert (len(small), len(medium), len(full)) == (23, 67, 200)
    assert set(small) <= set(medium) <= set(full) and np.array_equal(full, np.arange(200))
    for rows in (small, medium):
        assert abs(y[rows].mean() - 0.2) < 0.03
    assert np.array_equal(small, row_prefix(y, 1 / 9, seed=0, stratify=True))
    assert not np.array_equal(small, row_prefix(y, 1 / 9, seed=1, stratify=True))


def test_row_prefixes_keep_every_class_and_a_few_rows() -> None:
    y = np.array([0] * 95 + [1] * 3 + [2] * 2)
    rows = row_prefix(y, 0.01, seed=0, stratify=True)
    assert len(rows) == 10 and set(y[rows]) == {0, 1, 2}
    assert len(row_prefix(np.arange(6.0), 0.01, seed=0, stratify=False)) == 6
