"""Samplers and pruners from their names, driven by ask-and-tell as the grid driver does."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import optuna
import pytest
from optuna.pruners import HyperbandPruner, MedianPruner, NopPruner, SuccessiveHalvingPruner
from optuna.samplers import GridSampler, RandomSampler, TPESampler
from optuna.trial import TrialState

from loopml.data import Prepared
from loopml.spec import CategoricalDimension, Dimension, FloatDimension, IntDimension
from loopml.tuning import (
    RungPlan,
    RungTask,
    distributions,
    make_pruner,
    make_sampler,
    run_rung,
    rung_plan,
)
from tests.tuning.conftest import METRICS

SEARCH: dict[str, Dimension] = {
    "x": FloatDimension(low=-4.0, high=4.0),
    "k": IntDimension(low=1, high=5),
    "c": CategoricalDimension(choices=["a", "b", None]),
}
PLAN = RungPlan("n_estimators", (1 / 9, 1 / 3, 1.0), 3)


@pytest.fixture(autouse=True)
def _quiet_optuna() -> None:
    optuna.logging.set_verbosity(optuna.logging.WARNING)


@pytest.mark.parametrize(
    ("name", "kind"), [("tpe", TPESampler), ("random", RandomSampler), ("grid", GridSampler)]
)
def test_make_sampler(name: Any, kind: type) -> None:
    search = {"k": IntDimension(low=1, high=3)}
    assert isinstance(make_sampler(name, seed=0, search=search), kind)


def test_make_pruner() -> None:
    assert isinstance(make_pruner("none", PLAN), NopPruner)
    median = make_pruner("median", PLAN)
    assert isinstance(median, MedianPruner) and median._n_startup_trials == 5
    halving = make_pruner("successive-halving", PLAN)
    assert isinstance(halving, SuccessiveHalvingPruner)
    assert (halving._min_resource, halving._reduction_factor) == (1, 3)
    hyperband = make_pruner("hyperband", PLAN)
    assert isinstance(hyperband, HyperbandPruner)
    assert (hyperband._min_resource, hyperband._max_resource) == (1, 9)


def test_unknown_names_are_refused() -> None:
    with pytest.raises(ValueError, match="a sampler is one of tpe, random, grid, but got 'cmaes'"):
        make_sampler("cmaes", seed=0, search={})  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"a pruner is one of .*, but got 'asha'"):
        make_pruner("asha", PLAN)  # type: ignore[arg-type]


def _asked(sampler: str, seed: int, n: int) -> list[dict[str, Any]]:
    study = optuna.create_study(
        direction="maximize",
        sampler=make_sampler(sampler, seed=seed, search=SEARCH),  # type: ignore[arg-type]
    )
    asked = []
    for _ in range(n):
        trial = study.ask(distributions(SEARCH))
        asked.append(trial.params)
        study.tell(trial, -((trial.params["x"] - 1) ** 2) + trial.params["k"])
    return asked


@pytest.mark.parametrize("sampler", ["tpe", "random"])
def test_the_same_seed_asks_the_same_params(sampler: str) -> None:
    first = _asked(sampler, 7, 14)  # past TPE's 10 random start-up trials
    assert first == _asked(sampler, 7, 14)
    assert first != _asked(sampler, 8, 14)


def test_the_grid_sampler_walks_the_whole_grid() -> None:
    search: dict[str, Dimension] = {
        "k": IntDimension(low=1, high=3),
        "share": FloatDimension(low=0.5, high=1.0, step=0.25),
    }
    study = optuna.create_study(sampler=make_sampler("grid", seed=0, search=search))
    seen = set()
    for _ in range(9):
        trial = study.ask(distributions(search))
        seen.add((trial.params["k"], trial.params["share"]))
        study.tell(trial, 0.0)
    # The ninth tell exhausts the grid: Optuna's GridSampler would call study.stop() there,
    # which raises RuntimeError outside study.optimize.
    assert seen == {(k, s) for k in (1, 2, 3) for s in (0.5, 0.75, 1.0)}
    assert isinstance(study.sampler, GridSampler)


def _run_trial(
    study: optuna.Study, plan: RungPlan, prepared: Prepared, root: Path, number: int
) -> tuple[TrialState, list[float]]:
    """Drive one trial rung by rung, as the grid driver does; return its state and values."""
    search: dict[str, Dimension] = {
        "n_estimators": IntDimension(low=3, high=30),
        "max_depth": IntDimension(low=1, high=6),
    }
    trial = study.ask(distributions(search))
    params = {**trial.params, "random_state": 0, "n_jobs": 1}
    values: list[float] = []
    carry: tuple[Any, ...] = ()
    for step in range(plan.rungs):
        outcome = run_rung(
            RungTask(
                dataset="eu",
                model="forest",
                number=number,
                estimator="sklearn.ensemble.RandomForestClassifier",
                params=params,
                prepared=prepared,
                metrics=METRICS,
                plan=plan,
                step=step,
                artifacts_root=str(root),
                carry=carry,
            )
        )
        assert outcome.ok, outcome.error
        values.append(outcome.value)
        carry = outcome.carry
        if plan.is_final(step):
            study.tell(trial, outcome.metrics["accuracy"])
            return TrialState.COMPLETE, values
        trial.report(outcome.value, plan.steps[step])
        if trial.should_prune():
            study.tell(trial, state=TrialState.PRUNED)
            return TrialState.PRUNED, values
    raise AssertionError("unreachable")


def test_ask_and_tell_with_successive_halving(holdout: Prepared, tmp_path: Path) -> None:
    plan = rung_plan(
        "sklearn.ensemble.RandomForestClassifier",
        {"n_jobs": 1},
        pruner="successive-halving",
        n_folds=1,
        rungs=3,
        reduction_factor=3,
    )
    assert plan.kind == "n_estimators"
    study = optuna.create_study(
        direction="maximize",
        sampler=make_sampler("tpe", seed=0, search={}),
        pruner=make_pruner("successive-halving", plan),
    )
    results = [_run_trial(study, plan, holdout, tmp_path, n) for n in range(12)]
    states = [state for state, _ in results]
    assert states.count(TrialState.PRUNED) >= 3 and states.count(TrialState.COMPLETE) >= 1
    # Pruned trials stopped before the last rung; complete ones climbed every rung.
    assert all(len(v) < 3 for s, v in results if s is TrialState.PRUNED)
    assert all(len(v) == 3 for s, v in results if s is TrialState.COMPLETE)
    assert {len(v) for s, v in results if s is TrialState.PRUNED} == {1, 2}  # both rungs prune
    assert study.best_value == max(v[-1] for s, v in results if s is TrialState.COMPLETE)
    intermediate = study.trials[0].intermediate_values
    assert set(intermediate) <= {1, 3}
