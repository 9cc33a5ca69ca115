"""The command line end to end in a temporary directory, as a user types it."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from typer.testing import CliRunner

from loopml.cli import app
from tests.cli.shell import run_cli

runner = CliRunner()


def _ok(*args: str, cwd: Path) -> str:
    return run_cli(*args, cwd=cwd)


def test_project_commands_end_to_end(project: Path) -> None:
    out = _ok("validate", cwd=project)
    assert "valid" in out and "2 datasets x 2 models = 4 cells" in out
    assert not (project / ".loopml").exists()

    plan = json.loads(_ok("plan", "--json", cwd=project))
    assert [(c["cached"], c["to_run"]) for c in plan["studies"]] == [(0, 1)] * 4
    assert plan["headline"].startswith("work = 2 datasets x 2 models x 1 trials = 4 trials")
    assert not (project / ".loopml").exists()  # plan reads the store only if it exists

    out = _ok("run", "--workers", "1", cwd=project)
    assert "champion shop.eu: v1" in out and "COMPLETE" in out

    plan = json.loads(_ok("plan", "--json", cwd=project))
    assert [(c["cached"], c["to_run"]) for c in plan["studies"]] == [(1, 0)] * 4
    assert "4 cached; 0 to run; nothing to run" in _ok("plan", cwd=project)

    runs = json.loads(_ok("runs", "--json", cwd=project))
    assert len(runs) == 1 and runs[0]["state"] == "COMPLETE" and runs[0]["n_cells"] == 4

    board = json.loads(_ok("leaderboard", "--dataset", "eu", "--json", cwd=project))
    assert list(board["leaderboards"]) == ["eu"]
    assert len(board["leaderboards"]["eu"]) == 2
    assert "★" in _ok("leaderboard", cwd=project)

    models = json.loads(_ok("models", "--json", cwd=project))
    assert {m["name"]: m["champion"] for m in models} == {"shop.eu": 1, "shop.us": 1}


def test_promote_and_rollback_from_the_shell(project: Path) -> None:
    from loopml.cli import churn_frame

    _ok("run", "--workers", "1", cwd=project)
    churn_frame(200, seed=42).to_csv(project / "data" / "eu.csv", index=False)
    plan = json.loads(_ok("plan", "--json", cwd=project))
    assert {c["dataset"]: c["to_run"] for c in plan["studies"]} == {"eu": 1, "us": 0}
    out = _ok("run", "--workers", "1", cwd=project)
    assert "champion shop.eu: v2 (was v1)" in out and "shop.us: v1 (unchanged)" in out
    # the us champion was trained by the first run; the second run's same work is marked
    assert "★" in _ok("leaderboard", "--dataset", "us", cwd=project)

    out = _ok("models", "rollback", "shop.eu", "--reason", "bad week", cwd=project)
    assert "v2 -> v1" in out
    out = _ok("models", "promote", "shop.eu", "2", cwd=project)
    assert "v1 -> v2" in out
    shown = json.loads(_ok("models", "show", "shop.eu", "--json", cwd=project))
    assert [e["kind"] for e in shown["events"]] == ["register", "register", "rollback", "promote"]
    assert shown["events"][2]["reason"] == "bad week"
    assert shown["aliases"] == {"champion": 2}


def test_registry_errors_exit_nonzero_with_a_message(project: Path) -> None:
    _ok("run", "--workers", "1", cwd=project)
    os.chdir(project)
    try:
        result = runner.invoke(app, ["models", "promote", "shop.eu", "9"])
        assert result.exit_code == 1
        assert "version 9" in result.output
        result = runner.invoke(app, ["models", "rollback", "shop.eu"])
        assert result.exit_code == 1 and "no earlier champion" in result.output
        result = runner.invoke(app, ["leaderboard", "--dataset", "mars"])
        assert result.exit_code == 2 and "no dataset 'mars'" in result.output
    finally:
        os.chdir(Path(__file__).parent)


def test_failed_cells_exit_1_with_a_summary(make_project: pytest.FixtureRequest) -> None:
    from tests.conftest import base_spec

    spec = base_spec()
    spec["models"]["bad"] = {"estimator": "tests.grid.helpers.ExplodingClassifier"}
    root = make_project(spec)  # type: ignore[operator]
    result = runner.invoke(app, ["run", "--workers", "1", "--spec", str(root)])
    assert result.exit_code == 1
    assert "2 of 6 cells failed" in result.output
    assert "eu/bad: RuntimeError: boom" in result.output


@pytest.mark.slow
def test_init_scaffolds_a_project_that_runs(tmp_path: Path) -> None:
    out = _ok("init", "myproj", cwd=tmp_path)
    assert "loopml.yaml" in out
    project = tmp_path / "myproj"
    assert (project / "data" / "customers.csv").is_file()
    _ok("validate", cwd=project)
    out = _ok("run", "--workers", "2", cwd=project)
    assert "champion myproj.customers: v1" in out and "champion myproj.cancer: v1" in out
    again = runner.invoke(app, ["init", str(project)])
    assert again.exit_code == 2 and "already exists" in again.output


def test_tuning_from_the_shell(make_project: pytest.FixtureRequest) -> None:
    from tests.grid.test_tuning import tuned_spec

    root = make_project(tuned_spec(trials=3))  # type: ignore[operator]
    out = _ok("plan", "--workers", "1", cwd=root)
    assert "work = 2 datasets x 2 models x 1-3 trials = 8 trials; 0 cached; 8 to run; ~" in out
    assert "estimate confidence:" in out

    out = _ok("run", "--workers", "1", "--max-trials", "5", cwd=root)
    assert "STOPPED" in out and "5 trials run" in out and "continues" in out
    out = _ok("run", "--workers", "1", cwd=root)
    assert "3 trials run, 5 cached" in out and "COMPLETE" in out

    runs = json.loads(_ok("runs", "--json", cwd=root))
    assert [r["state"] for r in runs] == ["COMPLETE", "STOPPED"]
    out = _ok("runs", "show", runs[0]["run_id"][:8], cwd=root)
    assert "actual/estimate" in out or "no estimate" in out
    assert "tree" in out and "compute" in out

    out = _ok("run", "--workers", "1", "--force-dataset", "eu", cwd=root)
    assert "4 trials run, 4 cached" in out


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["run", "--budget", "ten minutes"], "a duration looks like 90s, 10m, 1h30m or 2d"),
        (["run", "--budget", "0s"], "must be > 0"),
        (["run", "--force-dataset", "mars"], "'mars' is not in the spec"),
        (["run", "--force-model", "svm"], "'svm' is not in the spec"),
        (["run", "--max-trials", "0"], "greater than or equal"),
        (["plan", "--workers", "0"], "greater than or equal"),
    ],
)
def test_bad_run_options_exit_2(project: Path, args: list[str], fragment: str) -> None:
    result = runner.invoke(app, [*args, "--spec", str(project)])
    assert result.exit_code == 2, result.output
    assert fragment in " ".join(result.output.split())
    assert not (project / ".loopml").exists()
