"""The grid on a Dask cluster: the same results as the local pool, dead workers retried."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

import loopml
from loopml.errors import InputError
from loopml.tracking import CellState, InMemoryStore, TrialState
from tests.cli.shell import run_cli
from tests.conftest import ProjectFactory, base_spec

pytest.importorskip("distributed")


def _tuned() -> dict[str, Any]:
    spec = base_spec()
    spec["tuning"] = {"sampler": "tpe", "seed": 3}
    spec["models"]["tree"]["search"] = {"min_samples_leaf": {"int": [1, 20]}}
    spec["models"]["tree"]["trials"] = 3
    return spec


def _scores(output: str) -> dict[tuple[str, str], dict[str, float]]:
    result = json.loads(output)
    assert result["state"] == "COMPLETE", result
    return {(c["dataset"], c["model"]): c["metrics"] for c in result["cells"]}


@pytest.mark.slow
def test_dask_gives_the_same_results_as_the_local_pool(make_project: ProjectFactory) -> None:
    root = make_project(_tuned())
    local = run_cli("run", "--workers", "2", "--json", cwd=root)
    dask = run_cli("run", "--executor", "dask", "--workers", "2", "--force", "--json", cwd=root)
    assert _scores(dask) == _scores(local)
    assert len(_scores(dask)) == 4
    assert json.loads(dask)["trials_run"] == 2 * (3 + 1)


@pytest.mark.slow
def test_a_trial_that_kills_its_workers_fails_after_the_retries(
    make_project: ProjectFactory,
) -> None:
    spec = base_spec()
    spec["datasets"].pop("us")
    spec["models"]["doomed"] = {"estimator": "tests.grid.helpers.SuicidalClassifier"}
    spec["executor"] = {"dask": "local"}
    store = InMemoryStore()
    result = loopml.run(loopml.load_spec(make_project(spec)), workers=2, store=store)

    assert [(c.dataset, c.model) for c in result.failed] == [("eu", "doomed")]
    # Both workers die in turn, so the prepared data dies with them and is sent again:
    # the scheduler's count for the task then starts afresh, and both workers may die
    # again before the driver hears of it: more than max_retries deaths, a few at most.
    found = re.match(
        r"(\d+) Dask workers died while running this work, more than max_retries=2 allows",
        result.failed[0].error or "",
    )
    assert found is not None, result.failed[0].error
    assert 3 <= int(found.group(1)) <= 8
    assert {c.model for c in result.cells if c.state is CellState.COMPLETE} == {"logreg", "tree"}
    trials = store.list_trials(run_id=result.run_id)
    assert sorted((t.model, t.state) for t in trials) == [
        ("doomed", TrialState.FAILED),
        ("logreg", TrialState.COMPLETE),
        ("tree", TrialState.COMPLETE),
    ]


def test_an_unknown_executor_stops_the_run_before_it_starts(project: Path) -> None:
    out = run_cli("run", "--executor", "spark", cwd=project, code=2)
    assert "--executor must be 'local', 'dask' (a local Dask cluster) or a Dask scheduler " in out
    assert not (project / ".loopml").exists()
    with pytest.raises(InputError, match=r"^`executor` must be 'local', 'dask'"):
        loopml.run(loopml.load_spec(project), executor="spark", store=InMemoryStore())
