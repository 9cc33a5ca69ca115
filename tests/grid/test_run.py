"""The grid end to end through the Python API, on a small project."""

from __future__ import annotations

import copy
import uuid
from pathlib import Path

import pandas as pd
import pytest
import yaml

import loopml
from loopml.artifacts import ArtifactStore
from loopml.registry import Registry
from loopml.tracking import CellState, InMemoryStore, RunState
from tests.conftest import ProjectFactory, base_spec


def _spec(root: Path) -> loopml.Spec:
    return loopml.load_spec(root / "loopml.yaml")


def test_run_records_every_cell_and_registers_champions(project: Path) -> None:
    spec = _spec(project)
    store = InMemoryStore()
    result = loopml.run(spec, workers=1, store=store)

    assert result.ok, [c.error for c in result.failed]
    assert result.run.state is RunState.COMPLETE
    assert {(c.dataset, c.model) for c in result.cells} == {
        (d, m) for d in ("eu", "us") for m in ("logreg", "tree")
    }
    for cell in result.cells:
        assert cell.state is CellState.COMPLETE
        assert set(cell.metrics) == {"accuracy", "f1"}
        assert 0.0 <= cell.metrics["accuracy"] <= 1.0
        assert cell.fit_seconds is not None and cell.fit_seconds > 0
        assert cell.predict_seconds is not None and cell.predict_seconds > 0
        assert cell.dataset_fingerprint.startswith("sha256:")
        assert cell.params["max_iter" if cell.model == "logreg" else "max_depth"]
        artifact = store.get_artifact(cell.artifact_sha256 or "")
        assert artifact is not None
        assert [c["name"] for c in artifact.input_schema["columns"]][:2] == ["age", "tenure_months"]
        assert len(artifact.sample_rows) == 5
    assert store.list_cells(run_id=result.run_id) == list(result.cells)

    for dataset in ("eu", "us"):
        change = result.champions[dataset]
        assert change.name == f"shop.{dataset}"
        assert change.version.version == 1 and change.changed
        assert change.version.cell_id == result.leaderboard(dataset)[0].cell_id


def test_champion_loads_and_predicts_raw_rows(project: Path) -> None:
    spec = _spec(project)
    store = InMemoryStore()
    loopml.run(spec, workers=1, store=store)
    pipeline = Registry(store, ArtifactStore(spec.artifacts_dir)).load("shop.eu")
    rows = pd.read_csv(project / "data" / "eu.csv").drop(columns=["customer_id", "churned"])
    assert set(pipeline.predict(rows.head(10))) <= {0, 1}


def test_lineage_is_recorded(project: Path) -> None:
    store = InMemoryStore()
    result = loopml.run(_spec(project), workers=1, store=store)
    lineage = result.run.lineage
    assert len(lineage.spec_hash) == 64
    assert lineage.loopml_version == loopml.__version__
    assert "scikit-learn" in lineage.packages
    assert lineage.python_version.count(".") == 2


def test_rerun_with_same_data_keeps_the_champion(project: Path) -> None:
    spec = _spec(project)
    store = InMemoryStore()
    loopml.run(spec, workers=1, store=store)
    again = loopml.run(spec, workers=1, store=store)
    assert all(not c.changed and c.version.version == 1 for c in again.champions.values())
    assert [v.version for v in store.list_versions("shop.eu")] == [1]


def test_preprocessing_is_fitted_once_per_dataset_on_training_rows(
    make_project: ProjectFactory, tmp_path: Path
) -> None:
    log = tmp_path / "fits.log"
    spec = base_spec()
    spec["preprocessing"] = {
        "numeric": [
            {"sklearn.impute.SimpleImputer": {"strategy": "median"}},
            {"tests.grid.helpers.CountingScaler": {"log": str(log)}},
        ],
    }
    root = make_project(spec, rows=200)
    result = loopml.run(_spec(root), workers=1, store=InMemoryStore())
    assert result.ok, [c.error for c in result.failed]
    # 2 datasets x 2 models, but one fit per dataset, on the 150 training rows only
    assert log.read_text().split() == ["150", "150"]


def test_kfold_fits_per_fold_and_refits_on_all_rows(
    make_project: ProjectFactory, tmp_path: Path
) -> None:
    log = tmp_path / "fits.log"
    spec = base_spec()
    spec["datasets"].pop("us")
    spec["split"] = {"kfold": 4, "seed": 0}
    spec["preprocessing"] = {
        "numeric": [
            {"sklearn.impute.SimpleImputer": {"strategy": "median"}},
            {"tests.grid.helpers.CountingScaler": {"log": str(log)}},
        ],
    }
    root = make_project(spec, rows=200)
    result = loopml.run(_spec(root), workers=1, store=InMemoryStore())
    assert result.ok, [c.error for c in result.failed]
    assert log.read_text().split() == ["150", "150", "150", "150", "200"]


def test_a_failing_cell_is_recorded_and_the_others_go_on(make_project: ProjectFactory) -> None:
    spec = base_spec()
    spec["models"]["bad"] = {
        "estimator": "tests.grid.helpers.ExplodingClassifier",
        "params": {"message": "fit exploded on purpose"},
    }
    store = InMemoryStore()
    result = loopml.run(_spec(make_project(spec)), workers=1, store=store)

    assert not result.ok
    assert result.run.state is RunState.FAILED
    assert {(c.dataset, c.model) for c in result.failed} == {("eu", "bad"), ("us", "bad")}
    for cell in result.failed:
        assert "RuntimeError: fit exploded on purpose" in (cell.error or "")
        assert cell.artifact_sha256 is None
    assert sum(c.state is CellState.COMPLETE for c in result.cells) == 4
    assert result.champions["eu"].version.version == 1
    assert store.get_run(result.run_id).n_failed == 2  # type: ignore[union-attr]


@pytest.mark.slow
def test_a_killed_worker_fails_only_its_cell(make_project: ProjectFactory) -> None:
    spec = base_spec()
    spec["models"]["doomed"] = {"estimator": "tests.grid.helpers.SuicidalClassifier"}
    store = InMemoryStore()
    result = loopml.run(_spec(make_project(spec)), workers=2, store=store)

    failed = {(c.dataset, c.model) for c in result.failed}
    assert failed == {("eu", "doomed"), ("us", "doomed")}
    for cell in result.failed:
        assert "SIGKILL" in (cell.error or "")
    complete = [c for c in result.cells if c.state is CellState.COMPLETE]
    assert len(complete) == 4 and all(c.artifact_sha256 for c in complete)
    assert len(store.list_cells(run_id=result.run_id)) == 6


@pytest.mark.slow
def test_process_pool_gives_the_same_results_as_inline(project: Path) -> None:
    spec = _spec(project)
    inline = loopml.run(spec, workers=1, store=InMemoryStore())
    pooled = loopml.run(spec, workers=2, store=InMemoryStore())

    def scores(result: loopml.RunResult) -> dict[tuple[str, str], dict[str, float]]:
        return {(c.dataset, c.model): dict(c.metrics) for c in result.cells}

    assert scores(inline) == scores(pooled)
    assert pooled.run.workers == 2


def test_regression_task_from_sklearn_loader(make_project: ProjectFactory) -> None:
    spec = {
        "name": "reg",
        "datasets": {"diabetes": {"sklearn": "load_diabetes", "target": "target"}},
        "models": {
            "ridge": {"estimator": "sklearn.linear_model.Ridge"},
            "tree": {"estimator": "sklearn.tree.DecisionTreeRegressor", "params": {"max_depth": 3}},
        },
        "metrics": {"primary": "r2", "extra": ["neg_mean_absolute_error"]},
    }
    result = loopml.run(_spec(make_project(spec)), workers=1, store=InMemoryStore())
    assert result.ok, [c.error for c in result.failed]
    best = result.leaderboard("diabetes")[0]
    assert best.model == "ridge" and best.metrics["r2"] > 0.3


def test_ties_break_on_extra_metrics(make_project: ProjectFactory) -> None:
    spec = base_spec()
    spec["datasets"].pop("us")
    spec["models"] = {
        "first": {
            "estimator": "sklearn.dummy.DummyClassifier",
            "params": {"strategy": "most_frequent"},
        },
        "second": {
            "estimator": "sklearn.dummy.DummyClassifier",
            "params": {"strategy": "most_frequent"},
        },
        "good": {"estimator": "sklearn.linear_model.LogisticRegression"},
    }
    spec["metrics"] = {"primary": "accuracy", "extra": ["f1"]}
    result = loopml.run(_spec(make_project(spec)), workers=1, store=InMemoryStore())
    board = result.leaderboard("eu")
    assert board[0].model == "good"
    # the two dummies tie on every metric: the faster predict ranks first
    a, b = board[1], board[2]
    assert a.metrics == b.metrics
    assert (a.predict_seconds or 0) <= (b.predict_seconds or 0)


def test_spec_and_python_source_datasets(make_project: ProjectFactory) -> None:
    spec = copy.deepcopy(base_spec())
    spec["datasets"] = {
        "gen": {
            "python": "tests.grid.sources:churn",
            "options": {"n": 120},
            "target": "churned",
            "drop": ["customer_id"],
        },
    }
    root = make_project(spec)
    result = loopml.run(_spec(root), workers=1, store=InMemoryStore())
    assert result.ok and result.cells[0].dataset == "gen"
    assert yaml.safe_load((root / "loopml.yaml").read_text())["name"] == "shop"


@pytest.mark.slow
def test_rerun_in_another_executor_keeps_the_champion(project: Path) -> None:
    # Artifact bytes can differ between a worker process and the driver (objects that went
    # through pickle serialize differently), so "same model" must not mean "same bytes".
    spec = _spec(project)
    store = InMemoryStore()
    loopml.run(spec, workers=2, store=store)
    again = loopml.run(spec, workers=1, store=store)
    assert {d: (c.changed, c.version.version) for d, c in again.champions.items()} == {
        "eu": (False, 1),
        "us": (False, 1),
    }
    first, second = (store.list_cells(run_id=r.run_id) for r in store.list_runs()[::-1])
    assert [c.key for c in first] and {c.key for c in first} == {c.key for c in second}


def test_a_run_can_register_challengers_and_leave_the_champions_be(
    make_project: ProjectFactory,
) -> None:
    from loopml.cli import churn_frame
    from loopml.registry import CHALLENGER, CHAMPION

    root = make_project()
    store = InMemoryStore()
    loopml.run(_spec(root), workers=1, store=store)
    churn_frame(240, seed=5).to_csv(root / "data" / "eu.csv", index=False)
    result = loopml.run(_spec(root), workers=1, store=store, register_as=CHALLENGER)
    assert result.champions["eu"].changed and not result.champions["us"].changed
    assert store.list_aliases("shop.eu")["shop.eu"] == {CHAMPION: 1, CHALLENGER: 2}
    assert store.list_aliases("shop.us")["shop.us"] == {CHAMPION: 1}
    registry = Registry(store, ArtifactStore(_spec(root).artifacts_dir))
    assert registry.profile("shop.eu", 2) is not None


def test_artifacts_can_live_on_an_fsspec_url(make_project: ProjectFactory) -> None:
    import fsspec

    spec_dict = base_spec()
    spec_dict["artifacts"] = f"memory://loopml-{uuid.uuid4().hex[:12]}/artifacts"
    root = make_project(spec_dict)
    store = InMemoryStore()
    try:
        result = loopml.run(_spec(root), workers=1, store=store)
        assert result.ok
        registry = Registry(store, ArtifactStore(_spec(root).artifacts_dir))
        rows = pd.read_csv(root / "data" / "eu.csv").drop(columns=["customer_id", "churned"])
        assert set(registry.load("shop.eu").predict(rows.head(10))) <= {0, 1}
        stored = fsspec.filesystem("memory").find(spec_dict["artifacts"])
        assert len(stored) == len({c.artifact_sha256 for c in result.cells}) == 4
        assert not (root / ".loopml" / "artifacts").exists()
    finally:
        fsspec.filesystem("memory").rm(spec_dict["artifacts"], recursive=True)


class _RivalAfterRead(InMemoryStore):
    """A store where another run registers its best cell right after this run read the
    champion of the first dataset it registers."""

    def __init__(self) -> None:
        super().__init__()
        self.rivals: list[str] = []

    def get_alias(self, name: str, alias: str) -> int | None:
        now = super().get_alias(name, alias)
        if not self.rivals:
            self.rivals.append(name)
            dataset = name.split(".")[1]
            best = max(self.list_cells(dataset=dataset), key=lambda c: c.metrics["accuracy"])
            self.register_version(
                name=name,
                cell_id=best.cell_id,
                artifact_sha256=best.artifact_sha256 or "",
                metrics=best.metrics,
                alias=alias,
                expected=now,
                actor="rival",
                reason="a run beside this one",
            )
        return now


def test_a_run_that_loses_the_champion_race_decides_again(project: Path) -> None:
    store = _RivalAfterRead()
    result = loopml.run(_spec(project), workers=1, store=store)

    assert result.run.state is RunState.COMPLETE
    lost = store.rivals[0]
    dataset = lost.split(".")[1]
    # It decided on no champion; the rival's came in between, so its registration failed
    # the compare-and-set; it read again, found that very model, and kept it.
    assert not result.champions[dataset].changed
    assert [v.version for v in store.list_versions(lost)] == [1]
    assert [e.actor for e in store.list_events(lost)] == ["rival"]
    for other in {"eu", "us"} - {dataset}:
        assert result.champions[other].changed


def test_a_new_champion_is_profiled_from_its_workers_answers_not_by_loading_it(
    project: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError("registration loaded an artifact it had just trained")

    monkeypatch.setattr(ArtifactStore, "load", refuse)
    store = InMemoryStore()
    loopml.run(_spec(project), workers=1, store=store)
    monkeypatch.undo()
    registry = Registry(store, ArtifactStore(_spec(project).artifacts_dir))
    profile = registry.profile("shop.eu", 1)
    assert profile is not None and profile.prediction is not None
    assert profile.prediction.count == 50  # the 25% holdout of 200 rows
    answers = registry.load("shop.eu").predict(
        pd.read_csv(project / "data" / "eu.csv").drop(columns=["customer_id", "churned"])
    )
    assert set(profile.prediction.levels) <= {str(a) for a in set(answers)}


def test_a_champion_chosen_among_cached_trials_is_profiled_from_its_saved_model(
    project: Path,
) -> None:
    store = InMemoryStore()
    spec = _spec(project)
    loopml.run(spec, workers=1, store=store)
    registry = Registry(store, ArtifactStore(spec.artifacts_dir))
    other = next(
        c
        for c in store.list_cells()
        if c.dataset == "eu" and c.cell_id != (store.get_version("shop.eu", 1).cell_id)
    )
    registry.register("shop.eu", other, reason="by hand: the runner-up")
    result = loopml.run(spec, workers=1, store=store)  # all cached: the best is back
    assert result.trials == () and result.champions["eu"].changed  # nothing trained
    profile = registry.profile("shop.eu", 3)
    assert profile is not None and profile.prediction is not None
    assert profile.prediction.count == 50
