"""`loopml monitor` on a project whose champion has served traffic, as cron would run it."""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from typer.testing import CliRunner, Result

import loopml
from loopml import grid
from loopml.cli import app, churn_frame
from loopml.cli._app import make_registry
from loopml.tracking import ModelEventKind
from tests.conftest import ProjectFactory, base_spec
from tests.policy.helpers import serve

NAME = "shop.eu"
runner = CliRunner()

Traffic = Callable[..., None]


@pytest.fixture
def root(make_project: ProjectFactory) -> Path:
    """A project whose shop.eu has a champion (v1), tracked in the spec's SQLite store."""
    spec = base_spec()
    spec["datasets"].pop("us")
    # The reference accuracy comes from 50 validation rows: allow for their noise.
    spec["monitor"] = {"metric_drop": 0.15}
    path = make_project(spec)
    loopml.run(loopml.load_spec(path), workers=1)
    return path


@pytest.fixture
def traffic(root: Path) -> Traffic:
    """Return a function serving n churn rows with shop.eu's champion, as the server logs them."""

    def send(
        n: int,
        *,
        seed: int,
        shift: float = 0.0,
        labelled: bool = True,
        at: datetime | None = None,
    ) -> None:
        frame = churn_frame(n, seed=seed, shift=shift)
        labels = frame.pop("churned").tolist()
        spec = loopml.load_spec(root)
        with grid.open_store(spec) as store:
            registry = make_registry(spec, store)
            features = frame.drop(columns="customer_id")
            serve(registry, NAME, features, labels=labels if labelled else None, at=at)

    return send


def _monitor(root: Path, *args: str) -> Result:
    # A wide terminal, so the table's cells are not cut short.
    return runner.invoke(app, ["monitor", "--spec", str(root), *args], env={"COLUMNS": "200"})


def _drifted_rows(output: str) -> set[str]:
    return {line.split()[0] for line in output.splitlines() if line.rstrip().endswith("✓")}


def test_traffic_like_the_training_data_exits_0(root: Path, traffic: Traffic) -> None:
    traffic(800, seed=31)
    result = _monitor(root)
    assert result.exit_code == 0, result.output
    out = result.output
    assert "window: last 1000 rows, 800 rows served by v1" in out
    assert "drift of shop.eu" in out and "monthly_fee" in out
    assert _drifted_rows(out) == set()
    assert "accuracy: 0." in out and "on 800 labelled rows vs" in out and "held" in out
    assert "no alert" in out


def test_a_covariate_shift_exits_3_and_names_the_drifted_features(
    root: Path, traffic: Traffic
) -> None:
    traffic(800, seed=32, shift=2.0, labelled=False)
    result = _monitor(root, NAME)
    assert result.exit_code == 3, result.output
    assert {"age", "support_tickets"} <= _drifted_rows(result.output)
    assert "alert: dataset drift: " in result.output
    assert "accuracy: no verdict yet: 0 labelled rows, 200 needed" in result.output
    assert "prediction distribution: drifted" in result.output


def test_each_run_is_an_event_on_the_model_timeline(root: Path, traffic: Traffic) -> None:
    traffic(800, seed=33, shift=2.0, labelled=False)
    assert _monitor(root).exit_code == 3
    assert _monitor(root).exit_code == 3
    spec = loopml.load_spec(root)
    with grid.open_store(spec) as store:
        events = store.list_model_events(NAME, kinds=[ModelEventKind.DRIFT_CHECK])
    assert len(events) == 2 and events[-1].version == 1
    assert events[-1].data["dataset_drift"] is True and events[-1].data["rows"] == 800
    assert events[-1].reason.startswith("dataset drift: ")


def test_json_is_one_document_with_the_alerts(root: Path, traffic: Traffic) -> None:
    traffic(800, seed=34, shift=2.0, labelled=False)
    result = _monitor(root, "--json")
    assert result.exit_code == 3
    [check] = json.loads(result.output)
    assert check["name"] == NAME and check["version"] == 1 and check["dataset_drift"] is True
    assert check["alerts"][0].startswith("dataset drift: ")
    assert "age" in check["drifted"]
    assert {f["feature"] for f in check["drift"]["features"] if f["drifted"]} == set(
        check["drifted"]
    )


def test_the_window_is_rows_or_a_time_span(root: Path, traffic: Traffic) -> None:
    # Two days ago the inputs were shifted; the last day looks like training.
    traffic(600, seed=35, shift=2.0, labelled=False, at=datetime.now(UTC) - timedelta(days=2))
    traffic(600, seed=36, labelled=False)
    day = _monitor(root, "--window", "24h", "--json")
    assert day.exit_code == 0, day.output
    assert [(c["window"], c["rows"]) for c in json.loads(day.output)] == [("last 1d", 600)]
    everything = _monitor(root, "--window", "5000", "--json")
    assert everything.exit_code == 3
    assert [(c["window"], c["rows"]) for c in json.loads(everything.output)] == [
        ("last 5000 rows", 1200)
    ]


@pytest.mark.parametrize(
    ("window", "fragment"),
    [
        ("a day", "a duration looks like 90s, 10m, 1h30m or 2d, but got 'a day'"),
        ("0", "a window is a number of rows >= 1 or a time span such as 24h, but got '0'"),
        ("-3h", "a duration looks like"),
    ],
)
def test_a_bad_window_exits_2_naming_the_option(root: Path, window: str, fragment: str) -> None:
    result = _monitor(root, "--window", window)
    assert result.exit_code == 2, result.output
    out = " ".join(result.output.split())
    assert "--window" in out and fragment in out


def test_an_unknown_model_exits_1_with_the_registry_message(root: Path) -> None:
    result = _monitor(root, "shop.mars")
    assert result.exit_code == 1
    assert "no registered model named 'shop.mars'; registered models: shop.eu" in result.output
    spec = loopml.load_spec(root)
    with grid.open_store(spec) as store:
        assert store.list_model_events(NAME) == []  # nothing was checked


def test_html_writes_the_report_and_says_where(root: Path, traffic: Traffic) -> None:
    traffic(800, seed=37, shift=2.0, labelled=False)
    page = root / "reports" / "monitor.html"
    result = _monitor(root, "--html", str(page))
    assert result.exit_code == 3
    assert f"report written to {page}" in " ".join(result.output.split())
    text = page.read_text()
    assert text.startswith("<!doctype html>") and "drifted distributions" in text
