"""The web UI in process (TestClient): each page's content, over a store a real run filled."""

from __future__ import annotations

import re
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from typer.testing import CliRunner

import loopml
from loopml.artifacts import ArtifactStore
from loopml.cli import app, churn_frame
from loopml.policy import check_health, record_health
from loopml.registry import Registry
from loopml.tracking import InMemoryStore, RunState, TrialState
from loopml.ui.web import create_ui_app, write_pipeline_report
from loopml.ui.web._login import COOKIE
from loopml.ui.web._runs import PAGE_SIZE
from tests.conftest import ProjectFactory, base_spec
from tests.policy.helpers import serve

NAME = "shop.eu"
HOSTILE = "<script>alert('x')</script>"
# every place a page can name something to fetch: src=, href= (xlink:href= too), url(...)
REFERENCE = re.compile(r"""(?:\b(?:src|href)\s*=\s*["']?|url\(\s*["']?)([^"'\s)>]*)""", re.I)


@dataclass(frozen=True)
class Filled:
    spec: loopml.Spec
    store: InMemoryStore
    registry: Registry
    first: loopml.RunResult
    second: loopml.RunResult


def tuned_spec() -> dict[str, object]:
    spec = base_spec()
    spec["tuning"] = {"sampler": "tpe", "pruner": "none", "seed": 3}
    spec["models"]["tree"] = {
        "estimator": "sklearn.tree.DecisionTreeClassifier",
        "search": {"max_depth": {"int": [1, 8]}, "min_samples_leaf": {"int": [1, 20]}},
        "trials": 5,
    }
    return spec


@pytest.fixture
def filled(make_project: ProjectFactory) -> Filled:
    """Two runs (the second on new eu data: a second version), served traffic, checks."""
    root = make_project(tuned_spec())
    spec = loopml.load_spec(root / "loopml.yaml")
    store = InMemoryStore()
    first = loopml.run(spec, workers=1, store=store)
    churn_frame(220, seed=9).to_csv(root / "data" / "eu.csv", index=False)
    spec = loopml.load_spec(root / "loopml.yaml")
    second = loopml.run(spec, workers=1, store=store)
    registry = Registry(store, ArtifactStore(spec.artifacts_dir))
    frame = churn_frame(300, seed=41, shift=2.0)
    serve(registry, NAME, frame.drop(columns=["customer_id", "churned"]), labels=frame["churned"])
    record_health(registry, check_health(spec, registry, NAME))
    registry.promote(NAME, 1, reason=HOSTILE)
    return Filled(spec, store, registry, first, second)


@pytest.fixture
def client(filled: Filled) -> Iterator[TestClient]:
    with TestClient(create_ui_app(filled.spec, filled.store)) as client:
        yield client


def _get(client: TestClient, path: str) -> str:
    response = client.get(path)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/html")
    page = response.text
    # Only the app's own stylesheet and pages: nothing from another host.
    for ref in REFERENCE.findall(page):
        assert ref.startswith(("/", "#", "?")), ref
    return page


def test_the_runs_page_lists_both_runs_with_estimate_and_actual(
    client: TestClient, filled: Filled
) -> None:
    page = _get(client, "/")
    for result in (filled.first, filled.second):
        assert f"/runs/{result.run_id}" in page
    assert "actual/estimate" in page
    assert client.get("/static/ui.css").text.startswith("body")


def test_a_leaderboard_ranks_cells_and_sorts_by_any_metric(
    client: TestClient, filled: Filled
) -> None:
    page = _get(client, f"/runs/{filled.second.run_id}")
    assert "<h2>eu</h2>" in page and "<h2>us</h2>" in page
    assert page.count("tag champion") >= 1
    # us did not change: its cells come from the cache of the first run
    assert "<span class='tag'>cached</span>" in page
    assert f"/runs/{filled.second.run_id}?sort=f1" in page
    by_fit = _get(client, f"/runs/{filled.second.run_id}?sort=fit_seconds")
    assert "sorted by fit_seconds" in by_fit
    bad = client.get(f"/runs/{filled.second.run_id}?sort=nope")
    assert bad.status_code == 400 and "cannot sort by" in bad.text


def test_a_cell_shows_params_rungs_lineage_artifact_and_its_search(
    client: TestClient, filled: Filled
) -> None:
    cell = next(c for c in filled.second.cells if c.dataset == "eu" and c.model == "tree")
    page = _get(client, f"/cells/{cell.cell_id}")
    assert cell.artifact_sha256 is not None and cell.artifact_sha256 in page
    assert cell.dataset_fingerprint in page
    run = filled.store.get_run(cell.run_id)
    assert run is not None and run.lineage.spec_hash in page
    assert "max_depth" in page and "every rung" in page
    assert "optimization history" in page and "slices" in page
    assert "parameter importance" in page
    assert page.count("<svg") == 3
    trials = filled.store.list_trials(run_id=cell.run_id, states=[TrialState.COMPLETE])
    assert f"tuning: {sum(t.model == 'tree' and t.dataset == 'eu' for t in trials)} trials" in page


def test_the_registry_marks_the_champion_and_the_timeline_escapes_reasons(
    client: TestClient,
) -> None:
    models = _get(client, "/models")
    assert f"/models/{NAME}" in models and "shop.us" in models
    page = _get(client, f"/models/{NAME}")
    assert "versions (2)" in page
    assert re.search(r"<tr class='champion'><td><a href='[^']+'>v1</a>", page)
    assert "<td>promoted (from v2)</td>" in page
    assert "<tr class='failed'>" in page  # the drift check's alert
    assert HOSTILE not in page and "&lt;script&gt;" in page
    version = _get(client, f"/models/{NAME}/versions/1")
    assert "tag champion" in version and "/cells/" in version
    assert client.get(f"/models/{NAME}/versions/9").status_code == 404
    assert client.get("/models/nope").status_code == 404


def test_the_monitoring_page_shows_drift_charts_and_recent_predictions(
    client: TestClient,
) -> None:
    assert f"/monitor/{NAME}" in _get(client, "/monitor")
    page = _get(client, f"/monitor/{NAME}")
    assert "drift" in page and "<svg" in page
    assert "300 served, 300 with feedback; the latest 50" in page


def test_a_token_guards_every_page_but_health(filled: Filled) -> None:
    with TestClient(create_ui_app(filled.spec, filled.store, token="s3cret")) as client:
        assert client.get("/").status_code == 401
        assert client.get("/healthz").status_code == 200
        ok = client.get("/models", headers={"Authorization": "Bearer s3cret"})
        assert ok.status_code == 200


def test_a_person_signs_in_once_and_browses_with_a_session_cookie(filled: Filled) -> None:
    app = create_ui_app(filled.spec, filled.store, token="s3cret")
    with TestClient(app, follow_redirects=False) as client:
        asked = client.get("/models?page=2", headers={"Accept": "text/html"})
        assert asked.status_code == 303
        assert asked.headers["location"] == "/login?next=/models%3Fpage%3D2"
        form = client.get("/login?next=/models")
        assert form.status_code == 200 and 'name="token"' in form.text
        wrong = client.post("/login", data={"token": "guess", "next": "/models"})
        assert wrong.status_code == 401 and "not the token" in wrong.text
        assert "s3cret" not in wrong.text and COOKIE not in wrong.headers.get("set-cookie", "")
        right = client.post("/login", data={"token": "s3cret", "next": "/models"})
        assert right.status_code == 303 and right.headers["location"] == "/models"
        cookie = right.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=Strict" in cookie and "s3cret" not in cookie
        assert client.get("/models").status_code == 200  # the client keeps the cookie
        assert client.get("/static/ui.css").status_code == 200


@pytest.mark.parametrize("target", ["https://evil.example/", "//evil.example/x", "models"])
def test_login_never_redirects_off_the_site(filled: Filled, target: str) -> None:
    app = create_ui_app(filled.spec, filled.store, token="s3cret")
    with TestClient(app, follow_redirects=False) as client:
        answer = client.post("/login", data={"token": "s3cret", "next": target})
        assert answer.headers["location"] == "/"


def test_a_session_cookie_of_another_token_is_refused(filled: Filled) -> None:
    with TestClient(create_ui_app(filled.spec, filled.store, token="other")) as client:
        client.post("/login", data={"token": "other"})
        stolen = client.cookies[COOKIE]
    app = create_ui_app(filled.spec, filled.store, token="s3cret")
    with TestClient(app, follow_redirects=False) as client:
        client.cookies.set(COOKIE, stolen)
        assert client.get("/models").status_code == 401


def test_the_report_is_one_file_that_loads_nothing(filled: Filled, tmp_path: Path) -> None:
    out = tmp_path / "report.html"
    write_pipeline_report(out, filled.spec, filled.registry)
    page = out.read_text()
    # no link, no stylesheet, no script to fetch: only the SVGs' own clip paths
    assert all(ref.startswith("#") for ref in REFERENCE.findall(page))
    assert "<style>" in page and "<script" not in page
    assert "<h2>eu</h2>" in page and "tag champion" in page
    assert "search of eu × tree: 5 trials" in page  # both datasets' trees were searched
    assert "<td>promoted (from v2)</td>" in page and "&lt;script&gt;" in page
    assert "recent predictions" in page
    assert page.count("<svg") >= 5  # two searches x (history + slices) and the checks


def test_loopml_report_writes_the_file(make_project: ProjectFactory, tmp_path: Path) -> None:
    root = make_project(tuned_spec())
    loopml.run(loopml.load_spec(root / "loopml.yaml"), workers=1)
    out = tmp_path / "out" / "r.html"
    out.parent.mkdir()
    result = CliRunner().invoke(app, ["report", "--spec", str(root), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert f"report written to {out}" in result.output
    assert "<h2>registry</h2>" in out.read_text()
    (tmp_path / "a-file").write_text("")
    missing = CliRunner().invoke(
        app, ["report", "--spec", str(root), "--out", str(tmp_path / "a-file" / "r.html")]
    )
    assert missing.exit_code != 0 and "cannot write the report" in missing.output


def test_a_cached_cell_links_the_version_registered_from_its_work(
    client: TestClient, filled: Filled
) -> None:
    # us did not change: the second run's us cells reuse the first run's work, which v1 is
    registered = filled.store.get_version("shop.us", 1)
    cached = next(
        c
        for c in filled.second.cells
        if c.cached and c.artifact_sha256 == registered.artifact_sha256
    )
    assert cached.cell_id != registered.cell_id
    page = _get(client, f"/cells/{cached.cell_id}")
    assert "cached: trained by an earlier run" in page
    assert "/models/shop.us/versions/1" in page


def test_runs_come_a_page_at_a_time(filled: Filled) -> None:
    store = filled.store
    for _ in range(PAGE_SIZE):
        run = replace(
            filled.first.run, run_id=uuid.uuid4().hex, state=RunState.RUNNING, finished_at=None
        )
        store.create_run(run)
    with TestClient(create_ui_app(filled.spec, filled.store)) as client:
        first = _get(client, "/")
        assert first.count("<a href='/runs/") == PAGE_SIZE and "page=2" in first
        second = _get(client, "/?page=2")
        assert second.count("<a href='/runs/") == 2 and "page=1" in second
        assert client.get("/?page=0").status_code == 422
