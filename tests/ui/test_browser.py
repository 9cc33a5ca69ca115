"""`loopml ui` in a real browser: headless Debian chromium, the network limited to loopback.

Clicks from a leaderboard to the champion's cell (its best trial) to the model version
registered from it, and saves a screenshot of every page it sees in
``$LOOPML_TEST_ARTIFACTS/browser`` (default: the repository's ``test-artifacts/browser``,
ignored by git).

Like the PostgreSQL tests, it runs where ``LOOPML_TEST_BROWSER`` names a chromium
(`.ci/run` installs Debian's and sets it to ``/usr/bin/chromium``), and then fails, not
skips, if that browser cannot run; without the variable (a fresh machine with only
Python, where `make test` must pass) it is skipped.
"""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest

import loopml
from tests.conftest import ProjectFactory
from tests.policy.helpers import serve
from tests.serving.servers import free_port, start_server
from tests.ui.test_web import NAME, tuned_spec

pytestmark = [
    pytest.mark.browser,
    pytest.mark.slow,
    pytest.mark.skipif(
        not os.environ.get("LOOPML_TEST_BROWSER"),
        reason="LOOPML_TEST_BROWSER is not set (.ci/run sets it to /usr/bin/chromium)",
    ),
]

CHROMIUM = os.environ.get("LOOPML_TEST_BROWSER", "/usr/bin/chromium")
LOOPBACK = {"127.0.0.1", "localhost", "[::1]", "::1"}


@pytest.fixture
def screenshots() -> Path:
    default = Path(__file__).resolve().parents[2] / "test-artifacts"
    folder = Path(os.environ.get("LOOPML_TEST_ARTIFACTS", default)) / "browser"
    folder.mkdir(parents=True, exist_ok=True)
    print(f"screenshots in {folder.resolve()}")  # noqa: T201 - where CI finds them (-s or -rP)
    return folder


@pytest.fixture
def ui_url(make_project: ProjectFactory) -> Iterator[str]:
    """Start `loopml ui` over a real small run (the spec's SQLite store), with traffic."""
    from loopml.artifacts import ArtifactStore
    from loopml.cli import churn_frame
    from loopml.grid import open_store
    from loopml.registry import Registry

    root = make_project(tuned_spec())
    spec = loopml.load_spec(root / "loopml.yaml")
    with open_store(spec) as store:
        loopml.run(spec, workers=1, store=store)
        frame = churn_frame(200, seed=41).drop(columns=["customer_id", "churned"])
        serve(Registry(store, ArtifactStore(spec.artifacts_dir)), NAME, frame)
    port = free_port()
    server = start_server(root, port, command="ui", ready="/healthz")
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_click_from_a_leaderboard_to_a_trial_to_its_model_version(
    ui_url: str, screenshots: Path
) -> None:
    from playwright.sync_api import Route, expect, sync_playwright

    blocked: list[str] = []

    def loopback_only(route: Route) -> None:
        if urlsplit(route.request.url).hostname in LOOPBACK:
            route.continue_()
        else:
            blocked.append(route.request.url)
            route.abort()

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1280, "height": 900})
            page.route("**/*", loopback_only)
            failed: list[str] = []
            page.on("requestfailed", lambda request: failed.append(request.url))

            page.goto(ui_url + "/")
            expect(page.locator("h1")).to_have_text("runs of shop")
            page.screenshot(path=screenshots / "1-runs.png", full_page=True)

            page.locator("td a[href^='/runs/']").first.click()
            expect(page.locator("h2", has_text="eu")).to_be_visible()
            # the stylesheet came from the app: its rules apply
            nav = page.locator("nav").evaluate("e => getComputedStyle(e).backgroundColor")
            assert nav == "rgb(36, 41, 47)"
            page.screenshot(path=screenshots / "2-leaderboard.png", full_page=True)

            champion_row = page.locator("tr.champion").first
            model = champion_row.locator("a").first.inner_text()
            champion_row.locator("a").first.click()
            expect(page.locator("h1")).to_have_text(re.compile(rf"^\w+ × {model}$"))
            expect(page.get_by_text("every rung")).to_be_visible()
            expect(page.locator("code.hash")).to_have_text(re.compile(r"^[0-9a-f]{64}$"))
            sha = page.locator("code.hash").inner_text()
            assert page.locator("svg").count() >= 1  # the search's history, drawn server-side
            page.screenshot(path=screenshots / "3-trial.png", full_page=True)

            page.get_by_role("link", name=re.compile(r"^shop\.\w+ v\d+$")).first.click()
            expect(page.locator("h1")).to_have_text(re.compile(r"^shop\.\w+ v\d+$"))
            expect(page.locator(".tag.champion")).to_be_visible()
            expect(page.locator("code.hash")).to_have_text(sha)
            page.screenshot(path=screenshots / "4-version.png", full_page=True)

            page.get_by_role("link", name="registry").click()
            expect(page.get_by_role("link", name=NAME)).to_be_visible()
            page.screenshot(path=screenshots / "5-registry.png", full_page=True)

            page.goto(f"{ui_url}/monitor/{NAME}")
            expect(page.get_by_text("recent predictions")).to_be_visible()
            expect(page.get_by_text("200 served")).to_be_visible()
            page.screenshot(path=screenshots / "6-monitoring.png", full_page=True)

            # a page that asks the outside world for something is stopped, not rendered late
            page.goto(ui_url + "/")
            page.evaluate("fetch('http://example.com/x').catch(() => null)")
            page.wait_for_timeout(200)
            assert blocked == ["http://example.com/x"]
            assert failed == blocked
        finally:
            browser.close()
