"""Tuning through the grid: trials, pruning, the cache, budgets and determinism."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

import pytest

import loopml
import loopml.artifacts
from loopml.grid import Force
from loopml.tracking import BaseStore, InMemoryStore, RunState, TrialState
from tests.conftest import ProjectFactory, base_spec


def tuned_spec(trials: int = 4, pruner: str = "none") -> dict[str, Any]:
    spec = base_spec()
    spec["tuning"] = {"sampler": "tpe", "pruner": pruner, "seed": 3}
    spec["models"]["tree"] = {
        "estimator": "sklearn.tree.DecisionTreeClassifier",
        "search": {"max_depth": {"int": [1, 8]}, "min_samples_leaf": {"int": [1, 20]}},
        "trials": trials,
    }
    return spec


def _run(root: Path, store: BaseStore, **options: Any) -> loopml.RunResult:
    return loopml.run(loopml.load_spec(root / "loopml.yaml"), store=store, **options)


def test_trials_are_recorded_and_the_best_is_the_cell(make_project: ProjectFactory) -> None:
    store = InMemoryStore()
    result = _run(make_project(tuned_spec(trials=4)), store, workers=1)
    assert result.ok
    trials = store.list_trials(run_id=result.run_id)
    assert len(trials) == 2 * (4 + 1)  # 2 datasets x (4 tree trials + 1 logreg trial)
    assert {t.state for t in trials} == {TrialState.COMPLETE}
    for dataset in ("eu", "us"):
        tree = [t for t in trials if t.dataset == dataset and t.model == "tree"]
        assert sorted(t.number for t in tree) == [0, 1, 2, 3]
        assert len({(t.params["max_depth"], t.params["min_samples_leaf"]) for t in tree}) > 1
        cell = result.cell(dataset, "tree")
        best = max(tree, key=lambda t: (t.metrics["accuracy"], t.metrics["f1"]))
        assert cell.metrics["accuracy"] == best.metrics["accuracy"]
        assert cell.n_trials == 4 and not cell.cached
        assert cell.trial_id in {t.trial_id for t in tree}


def test_same_seed_gives_the_same_trials(make_project: ProjectFactory) -> None:
    root = make_project(tuned_spec(trials=6))
    params = []
    for _ in range(2):
        store = InMemoryStore()
        result = _run(root, store, workers=1, force=Force(all=True))
        params.append(
            [
                (t.dataset, t.number, t.params["max_depth"], t.params["min_samples_leaf"])
                for t in store.list_trials(run_id=result.run_id)
                if t.model == "tree"
            ]
        )
    assert params[0] == params[1]


def test_rerun_with_nothing_changed_trains_nothing(make_project: ProjectFactory) -> None:
    root = make_project(tuned_spec(trials=3))
    store = InMemoryStore()
    first = _run(root, store, workers=1)
    again = _run(root, store, workers=1)
    assert len(first.trials) == 8 and first.cached == 0
    assert again.trials == () and again.cached == 8
    assert all(c.cached for c in again.cells)
    assert {c.metrics["accuracy"] for c in again.cells} == {
        c.metrics["accuracy"] for c in first.cells
    }
    assert all(not ch.changed for ch in again.champions.values())


def test_more_trials_run_only_the_new_ones(make_project: ProjectFactory) -> None:
    root = make_project(tuned_spec(trials=3))
    store = InMemoryStore()
    _run(root, store, workers=1)
    spec = tuned_spec(trials=5)
    make_project(spec)
    more = _run(root, store, workers=1)
    assert sorted((t.dataset, t.number) for t in more.trials) == [
        ("eu", 3),
        ("eu", 4),
        ("us", 3),
        ("us", 4),
    ]
    assert more.cached == 8
    assert more.cell("eu", "tree").n_trials == 5


def test_changing_one_dataset_reruns_only_its_cells(make_project: ProjectFactory) -> None:
    from loopml.cli import churn_frame

    root = make_project(tuned_spec(trials=2))
    store = InMemoryStore()
    _run(root, store, workers=1)
    churn_frame(210, seed=77).to_csv(root / "data" / "us.csv", index=False)
    after = _run(root, store, workers=1)
    assert {t.dataset for t in after.trials} == {"us"}
    assert len(after.trials) == 3 and after.cached == 3


def test_adding_a_model_runs_only_that_model(make_project: ProjectFactory) -> None:
    root = make_project(tuned_spec(trials=2))
    store = InMemoryStore()
    _run(root, store, workers=1)
    spec = tuned_spec(trials=2)
    spec["models"]["nb"] = {"estimator": "sklearn.naive_bayes.GaussianNB"}
    make_project(spec)
    after = _run(root, store, workers=1)
    assert {(t.dataset, t.model) for t in after.trials} == {("eu", "nb"), ("us", "nb")}


def test_force_options_recompute(make_project: ProjectFactory) -> None:
    root = make_project(tuned_spec(trials=2))
    store = InMemoryStore()
    _run(root, store, workers=1)
    by_dataset = _run(root, store, workers=1, force=Force(datasets=("eu",)))
    assert {t.dataset for t in by_dataset.trials} == {"eu"} and len(by_dataset.trials) == 3
    by_model = _run(root, store, workers=1, force=Force(models=("logreg",)))
    assert {t.model for t in by_model.trials} == {"logreg"}
    everything = _run(root, store, workers=1, force=Force(all=True))
    assert len(everything.trials) == 6


def test_max_trials_stops_and_a_later_run_continues(make_project: ProjectFactory) -> None:
    root = make_project(tuned_spec(trials=4))
    store = InMemoryStore()
    stopped = _run(root, store, workers=1, max_trials=3)
    assert stopped.run.state is RunState.STOPPED
    assert len(stopped.trials) == 3
    rest = _run(root, store, workers=1)
    assert rest.run.state is RunState.COMPLETE
    assert len(rest.trials) == 10 - 3 and rest.cached == 3


def test_time_budget_stops_scheduling(make_project: ProjectFactory) -> None:
    root = make_project(tuned_spec(trials=30))
    store = InMemoryStore()
    stopped = _run(root, store, workers=1, budget_seconds=0.5)
    assert stopped.run.state is RunState.STOPPED
    assert 0 < len(stopped.trials) < 62


def test_pruned_and_failed_trials_are_recorded(make_project: ProjectFactory) -> None:
    spec = tuned_spec(trials=12, pruner="successive-halving")
    spec["datasets"].pop("us")
    spec["models"]["forest"] = {
        "estimator": "sklearn.ensemble.RandomForestClassifier",
        "params": {"n_estimators": 27},
        "search": {"max_depth": {"int": [1, 10]}, "max_features": {"float": [0.1, 1.0]}},
        "trials": 12,
    }
    spec["models"]["bad"] = {"estimator": "tests.grid.helpers.ExplodingClassifier"}
    store = InMemoryStore()
    result = _run(make_project(spec), store, workers=1)
    trials = store.list_trials(run_id=result.run_id)
    forest = [t for t in trials if t.model == "forest"]
    assert {t.state for t in forest} >= {TrialState.COMPLETE, TrialState.PRUNED}
    for t in forest:
        if t.state is TrialState.PRUNED:
            assert 1 <= len(t.rungs) < 3 and t.artifact_sha256 is None
        if t.state is TrialState.COMPLETE:
            assert [r.budget for r in t.rungs][-1] == 1.0 and t.artifact_sha256
    [bad] = [t for t in trials if t.model == "bad"]
    assert bad.state is TrialState.FAILED and "RuntimeError: boom" in (bad.error or "")
    assert result.cell("eu", "bad").state.value == "FAILED"


def test_plan_counts_cached_and_estimates(make_project: ProjectFactory) -> None:
    root = make_project(tuned_spec(trials=3))
    spec = loopml.load_spec(root)
    store = InMemoryStore()
    datasets = loopml.validate(spec)
    cold = loopml.grid.build_plan(spec, datasets, store, workers=2)
    assert (cold.total, cold.cached, cold.to_run) == (8, 0, 8)
    assert cold.seconds > 0
    assert (
        "work = 2 datasets x 2 models x 1-3 trials = 8 trials; 0 cached; 8 to run" in cold.headline
    )
    _run(root, store, workers=1)
    warm = loopml.grid.build_plan(spec, datasets, store, workers=2)
    assert (warm.cached, warm.to_run) == (8, 0)
    assert warm.headline.endswith("nothing to run")
    bigger = copy.deepcopy(tuned_spec(trials=5))
    make_project(bigger)
    spec = loopml.load_spec(root)
    more = loopml.grid.build_plan(spec, loopml.validate(spec), store, workers=2)
    assert (more.cached, more.to_run) == (8, 4)
    assert all(s.basis == "history" for s in more.studies if s.to_run)


def test_kfold_rungs_are_the_folds(make_project: ProjectFactory) -> None:
    spec = tuned_spec(trials=6, pruner="median")
    spec["datasets"].pop("us")
    spec["split"] = {"kfold": 3, "seed": 0}
    store = InMemoryStore()
    result = _run(make_project(spec), store, workers=1)
    assert result.ok, [c.error for c in result.failed]
    tree = [t for t in store.list_trials(run_id=result.run_id) if t.model == "tree"]
    complete = [t for t in tree if t.state is TrialState.COMPLETE]
    assert complete and all(len(t.rungs) == 3 for t in complete)
    for t in complete:  # the last rung's value is the mean over the 3 folds
        assert t.rungs[-1].value == pytest.approx(t.metrics["accuracy"])


def test_work_with_a_known_key_is_reused_not_retrained(make_project: ProjectFactory) -> None:
    # A new sampler makes a new study, but a trial whose params were already trained on
    # the same data (same content key) takes the stored result.
    spec = tuned_spec(trials=4)
    spec["models"]["tree"]["search"] = {"max_depth": {"categorical": [2, 3]}}
    spec["models"]["tree"]["sampler"] = "grid"
    spec["models"]["tree"]["trials"] = 2
    root = make_project(spec)
    store = InMemoryStore()
    first = _run(root, store, workers=1)
    spec["models"]["tree"]["sampler"] = "random"
    make_project(spec)
    second = _run(root, store, workers=1)
    tree = [t for t in second.trials if t.model == "tree"]
    assert tree and all(t.fit_seconds == 0.0 and t.state is TrialState.COMPLETE for t in tree)
    assert {t.key for t in tree} <= {t.key for t in first.trials}
    assert second.cell("eu", "tree").cached


def test_tree_rungs_continue_the_previous_rung(make_project: ProjectFactory) -> None:
    spec = tuned_spec(trials=6, pruner="successive-halving")
    spec["datasets"].pop("us")
    spec["models"]["forest"] = {
        "estimator": "sklearn.ensemble.RandomForestClassifier",
        "params": {"n_estimators": 90},
        "search": {"max_depth": {"int": [2, 8]}},
        "trials": 6,
    }
    root = make_project(spec)
    store = InMemoryStore()
    result = _run(root, store, workers=1)
    complete = [
        t
        for t in store.list_trials(run_id=result.run_id)
        if t.model == "forest" and t.state is TrialState.COMPLETE
    ]
    assert complete
    artifacts = loopml.artifacts.ArtifactStore(loopml.load_spec(root).artifacts_dir)
    for t in complete:
        assert [r.budget for r in t.rungs] == pytest.approx([1 / 9, 1 / 3, 1.0])
        record = store.get_artifact(t.artifact_sha256 or "")
        assert record is not None
        forest = artifacts.load(record.uri, sha256=record.sha256)[-1]
        # grown 10 -> 30 -> 90 trees by warm start, saved as a plain 90-tree forest
        assert len(forest.estimators_) == 90 and forest.n_estimators == 90
        assert forest.warm_start is False
