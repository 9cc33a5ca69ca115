"""Search spaces and tuning in loopml.yaml: forms, defaults, and every rule with its key path."""

from __future__ import annotations

import pytest

from loopml.errors import SpecError
from loopml.spec import (
    CategoricalDimension,
    FloatDimension,
    IntDimension,
    check_spec,
    parse_spec,
    spec_hash,
)

HEAD = """\
name: shop
datasets:
  eu:
    sklearn: load_iris
    target: target
metrics:
  primary: accuracy
models:
  forest:
    estimator: sklearn.ensemble.RandomForestClassifier
"""

FOREST = (
    HEAD
    + """\
    params: {n_jobs: 1}
    search:
      n_estimators: {int: [50, 400]}
      max_depth: {int: [2, 12]}
      max_features: {categorical: [sqrt, log2, 0.5, null]}
      min_impurity_decrease: {float: [1e-6, 0.01], log: true}
    trials: 20
"""
)


def _error(text: str) -> SpecError:
    with pytest.raises(SpecError) as info:
        check_spec(parse_spec(text, file="loopml.yaml"))
    return info.value


def _with_dimension(dimension: str) -> str:
    return FOREST.replace("max_depth: {int: [2, 12]}", f"max_depth: {dimension}")


def test_the_example_parses_and_checks() -> None:
    spec = parse_spec(FOREST)
    check_spec(spec)
    forest = spec.models["forest"]
    assert forest.trials == 20 and forest.params == {"n_jobs": 1}
    assert forest.search == {
        "n_estimators": IntDimension(low=50, high=400),
        "max_depth": IntDimension(low=2, high=12),
        "max_features": CategoricalDimension(choices=["sqrt", "log2", 0.5, None]),
        # YAML 1.1 reads 1e-6 as a string; the float dimension reads it as a number
        "min_impurity_decrease": FloatDimension(low=1e-6, high=0.01, log=True),
    }
    assert spec.line_of("models", "forest", "search", "max_depth") == 14


@pytest.mark.parametrize(
    ("short", "long"),
    [
        ("{int: [2, 12]}", "{type: int, low: 2, high: 12}"),
        ("{int: [50, 400], step: 10}", "{type: int, low: 50, high: 400, step: 10, log: false}"),
        ("{int: [1, 64], log: true}", "{type: int, low: 1, high: 64, log: true}"),
        ("{float: [0.1, 0.9], step: 0.1}", "{type: float, low: 0.1, high: 0.9, step: 0.1}"),
        ("{float: [1.0e-4, 1], log: true}", "{type: float, low: 0.0001, high: 1.0, log: true}"),
        ("{categorical: [a, 1, null]}", "{type: categorical, choices: [a, 1, null]}"),
    ],
)
def test_short_and_long_forms_are_the_same(short: str, long: str) -> None:
    def dimension(text: str) -> object:
        return parse_spec(_with_dimension(text)).models["forest"].search["max_depth"]

    assert dimension(short) == dimension(long)


def test_everything_new_is_optional() -> None:
    spec = parse_spec(HEAD)
    model = spec.models["forest"]
    assert (model.search, model.trials, model.sampler, model.pruner) == ({}, 1, None, None)
    assert spec.tuning.sampler == "tpe" and spec.tuning.pruner == "none"
    assert (spec.tuning.seed, spec.tuning.rungs, spec.tuning.reduction_factor) == (0, 3, 3)
    # Specs written before tuning existed keep their hash.
    assert "tuning" not in spec.model_dump() and "trials" not in spec.model_dump()["models"]
    assert spec_hash(spec) == spec_hash(parse_spec(HEAD + "    trials: 1\ntuning: {}\n"))
    assert spec_hash(spec) != spec_hash(parse_spec(HEAD + "tuning: {seed: 1}\n"))


def test_sampler_and_pruner_come_from_the_model_then_tuning() -> None:
    spec = parse_spec(
        FOREST
        + "    sampler: random\n    pruner: hyperband\n"
        + "  knn:\n    estimator: sklearn.neighbors.KNeighborsClassifier\n"
        + "    search: {n_neighbors: {int: [1, 9]}}\n    trials: 4\n"
        + "  tree:\n    estimator: sklearn.tree.DecisionTreeClassifier\n"
        + "tuning: {sampler: grid, pruner: median}\n"
    )
    check_spec(spec)
    assert (spec.sampler_for("forest"), spec.pruner_for("forest")) == ("random", "hyperband")
    assert (spec.sampler_for("knn"), spec.pruner_for("knn")) == ("grid", "median")
    # One trial has nothing to be compared with: no pruner, no rungs.
    assert spec.pruner_for("tree") == "none"


@pytest.mark.parametrize(
    ("dimension", "message"),
    [
        ("{int: [12, 2]}", "`low` must be <= `high`, but got low=12 and high=2: swap them"),
        (
            "{type: int, low: 0, high: 8, log: true}",
            "a log-scale int dimension needs low >= 1, but got low=0",
        ),
        (
            "{float: [0, 1], log: true}",
            "a log-scale float dimension needs low > 0, but got low=0.0",
        ),
        ("{int: [2, 12], step: 0}", "`step` must be >= 1, but got step=0"),
        ("{float: [0.5, 1], step: -0.1}", "`step` must be > 0, but got step=-0.1"),
        (
            "{float: [0.1, 1], step: 0.1, log: true}",
            "`step` cannot be combined with `log: true`, but got step=0.1",
        ),
        (
            "{int: [2, 12], step: 2, log: true}",
            "`step` cannot be combined with `log: true`, but got step=2",
        ),
        (
            "{int: [2, 13], step: 2}",
            "high - low must be a multiple of step, but got low=2, high=13 and step=2: "
            "set high to 12 or 14",
        ),
        ("{categorical: []}", "a categorical dimension needs at least one choice, but got []"),
        ("{categorical: [[8, 8], 16]}", "choices must be strings, numbers, booleans or null"),
        ("{int: [2]}", "the short form is {int: [low, high]}, but got int: [2]"),
        ("{type: int, low: 2}", "a search dimension needs `high`"),
        ("{type: int, low: 2, high: 4, stpe: 1}", "unknown key 'stpe' in a search dimension"),
        (
            "{type: range, low: 2, high: 4}",
            "a search dimension's type is int, float or categorical, but got 'range'",
        ),
        ("{int: [2, 12], float: [2, 12]}", "a search dimension has one type"),
        ("[2, 12]", "a search dimension is a mapping"),
        ("{int: [two, 12]}", "`low`: input should be a valid integer"),
    ],
)
def test_dimension_rules(dimension: str, message: str) -> None:
    error = _error(_with_dimension(dimension))
    assert str(error).startswith(message)
    assert "(models.forest.search.max_depth in loopml.yaml, line 14)" in str(error)


def test_unknown_parameter_in_search_gets_a_close_match() -> None:
    error = _error(FOREST.replace("max_depth:", "max_dept:"))
    [problem] = error.problems
    assert problem.key == "models.forest.search.max_dept"
    assert problem.message == "sklearn.ensemble.RandomForestClassifier has no parameter 'max_dept'"
    assert problem.hint is not None and problem.hint.startswith("Did you mean 'max_depth'?")
    assert problem.line == 14


def test_a_parameter_cannot_be_both_fixed_and_searched() -> None:
    error = _error(FOREST.replace("params: {n_jobs: 1}", "params: {n_jobs: 1, max_depth: 4}"))
    [problem] = error.problems
    assert problem.key == "models.forest.search.max_depth"
    assert problem.message == "'max_depth' is both fixed in `params` (= 4) and searched in `search`"
    assert problem.line == 14


@pytest.mark.parametrize("trials", ["0", "-3"])
def test_trials_must_be_at_least_one(trials: str) -> None:
    error = _error(FOREST.replace("trials: 20", f"trials: {trials}"))
    assert str(error).startswith(f"`trials` must be >= 1, but got {trials}")
    assert "(models.forest.trials in loopml.yaml, line 17)" in str(error)


def test_several_trials_need_a_search() -> None:
    error = _error(HEAD + "    trials: 5\n")
    [problem] = error.problems
    assert problem.key == "models.forest.trials" and problem.line == 11
    assert "every trial would train the same model" in problem.message
    assert problem.hint == "Add a `search` space, or remove `trials`"


@pytest.mark.parametrize(
    ("where", "origin"),
    [
        ("tuning: {sampler: grid}\n", "tuning.sampler"),
        ("    sampler: grid\n", "models.forest.sampler"),
    ],
)
def test_the_grid_sampler_needs_finite_dimensions(where: str, origin: str) -> None:
    error = _error(FOREST + where)
    [problem] = error.problems
    assert problem.key == "models.forest.search.min_impurity_decrease"
    assert problem.message.startswith(
        "the grid sampler needs a finite set of values, but 'min_impurity_decrease' is a "
        "continuous float range [1e-06, 0.01] with no `step`"
    )
    assert f"(the sampler is set by {origin})" in problem.message
    assert problem.line == 16
    stepped = FOREST.replace(
        "{float: [1e-6, 0.01], log: true}", "{float: [0.0, 0.01], step: 0.005}"
    )
    check_spec(parse_spec(stepped + where))


def test_the_grid_sampler_needs_as_many_points_as_trials() -> None:
    grid = (
        HEAD + "    search: {max_depth: {int: [2, 4]}, criterion: {categorical: [gini, entropy]}}\n"
    )
    check_spec(parse_spec(grid + "    trials: 6\n    sampler: grid\n"))
    error = _error(grid + "    trials: 7\n    sampler: grid\n")
    [problem] = error.problems
    assert problem.key == "models.forest.trials" and problem.line == 12
    assert problem.message.startswith("`trials` is 7 but the grid has 6 points")
    assert problem.hint == "Set `trials` to 6 or fewer, or add values to the grid"


def test_the_grid_sampler_refuses_a_grid_too_big_to_list() -> None:
    huge = HEAD + (
        "    search: {n_estimators: {int: [1, 2000]}, max_leaf_nodes: {int: [2, 1000]}}\n"
        "    trials: 5\n    sampler: grid\n"
    )
    [problem] = _error(huge).problems
    assert problem.key == "models.forest.search"
    assert "at most 1,000,000, but this grid has 1,998,000" in problem.message


@pytest.mark.parametrize(
    ("text", "key", "fragment"),
    [
        (FOREST + "    sampler: cmaes\n", "models.forest.sampler", "'tpe', 'random' or 'grid'"),
        (FOREST + "    pruner: asha\n", "models.forest.pruner", "'successive-halving'"),
        (FOREST + "tuning: {sampler: bayes}\n", "tuning.sampler", "but got 'bayes'"),
        (FOREST + "tuning: {pruner: halving}\n", "tuning.pruner", "but got 'halving'"),
        (FOREST + "tuning: {rungs: 1}\n", "tuning.rungs", "greater than or equal to 2"),
        (FOREST + "tuning: {reduction_factor: 7}\n", "tuning.reduction_factor", "less than"),
    ],
)
def test_tuning_names_and_bounds(text: str, key: str, fragment: str) -> None:
    error = _error(text)
    [problem] = error.problems
    assert problem.key == key and fragment in problem.message


def test_every_problem_is_reported_at_once() -> None:
    text = FOREST.replace("max_depth:", "max_dept:").replace(
        "params: {n_jobs: 1}", "params: {n_jobs: 1, n_estimators: 10}"
    )
    keys = [p.key for p in _error(text + "tuning: {sampler: grid}\n").problems]
    assert keys == [
        "models.forest.search.max_dept",
        "models.forest.search.n_estimators",
        "models.forest.search.min_impurity_decrease",
    ]


def test_dimensions_built_in_python_check_their_rules() -> None:
    with pytest.raises(ValueError, match="`low` must be <= `high`"):
        IntDimension(low=3, high=1)
    with pytest.raises(ValueError, match="at least one choice"):
        CategoricalDimension(choices=[])
