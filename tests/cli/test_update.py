"""`loopml update`, `watch` and `history` from the shell, on a project's own store."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

import loopml
from loopml.artifacts import ArtifactStore
from loopml.cli import churn_frame
from loopml.grid import open_store
from loopml.registry import Registry
from tests.cli.shell import run_cli
from tests.policy.helpers import serve

_run = run_cli


def test_update_retrains_the_model_whose_world_changed_and_history_tells_it(
    project: Path,
) -> None:
    _run("run", "--workers", "1", cwd=project)
    spec_file = project / "loopml.yaml"
    data = yaml.safe_load(spec_file.read_text())
    data["update"] = {"reference": False, "min_labels": 200}
    spec_file.write_text(yaml.safe_dump(data))
    spec = loopml.load_spec(spec_file)
    with open_store(spec) as store:
        traffic = churn_frame(500, seed=51)
        labels = 1 - traffic.pop("churned")  # the EU customers now behave the other way
        serve(
            Registry(store, ArtifactStore(spec.artifacts_dir)),
            "shop.eu",
            traffic.drop(columns="customer_id"),
            labels=labels.tolist(),
        )

    outcomes = json.loads(_run("update", "--json", "--workers", "1", cwd=project))
    by_name = {o["name"]: o for o in outcomes}
    assert by_name["shop.eu"]["action"] == "promoted"
    assert by_name["shop.eu"]["champion"] == 2
    assert by_name["shop.us"]["action"] == "skipped"
    assert by_name["shop.us"]["reason"].startswith("no trigger fired")

    out = _run("history", "shop.eu", cwd=project)
    for what in ("trained", "metric dropped", "retrained", "challenger won"):
        assert what in out, out
    entries = json.loads(_run("history", "shop.eu", "--json", cwd=project))
    assert [e["what"] for e in entries][-3:] == [
        "trained (challenger)",
        "retrained",
        "challenger won: promoted (from v1)",
    ]

    out = _run("watch", "--every", "1s", "--rounds", "1", cwd=project)
    assert "shop.eu" in out and "skipped" in out


def test_update_names_a_model_of_another_pipeline(project: Path) -> None:
    _run("run", "--workers", "1", cwd=project)
    out = _run("update", "other.eu", cwd=project, code=2)
    assert "'other.eu' is not a model of pipeline 'shop'" in out
    out = _run("history", "shop.nowhere", cwd=project, code=1)
    assert "no registered model named 'shop.nowhere'" in out
