"""The HTML monitor report: one page that loads nothing, with the charts a person needs."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import loopml
from loopml.cli import churn_frame
from loopml.errors import InputError
from loopml.monitoring import build_profile, drift_report
from loopml.policy import Health, Performance, ServedWindow, check_health, record_health
from loopml.registry import Registry
from loopml.ui import ModelReport, gather_report, render_report, write_report
from tests.policy.helpers import serve

NAME = "shop.eu"
# every place a page can name something to fetch: src=, href= (xlink:href= too), url(...)
REFERENCE = re.compile(r"""(?:\b(?:src|href)\s*=\s*["']?|url\(\s*["']?)([^"'\s)>]*)""", re.I)


@pytest.fixture
def spec(registry: Registry) -> loopml.Spec:
    root = Path(registry.artifacts.root).parents[1]
    return loopml.load_spec(root / "loopml.yaml")


def _shifted(registry: Registry, seed: int) -> None:
    frame = churn_frame(800, seed=seed, shift=2.0).drop(columns=["customer_id", "churned"])
    serve(registry, NAME, frame)


def test_the_page_shows_drifted_distributions_and_the_checks_over_time(
    spec: loopml.Spec, registry: Registry, tmp_path: Path
) -> None:
    _shifted(registry, seed=41)
    record_health(registry, check_health(spec, registry, NAME))
    registry.promote(NAME, 1, reason="try the old one")
    record_health(registry, check_health(spec, registry, NAME))
    registry.promote(NAME, 2, reason="back")
    health = check_health(spec, registry, NAME)
    record_health(registry, health)
    assert health.drift is not None and {"age", "support_tickets"} <= set(health.drift.drifted)

    page = tmp_path / "report.html"
    write_report(page, [gather_report(registry, health, window=1000)])
    text = page.read_text()
    prediction = health.drift.prediction
    distributions = len(health.drift.drifted) + bool(prediction and prediction.drifted)
    assert text.count("<svg") == distributions + 1  # one per drifted distribution, one timeline
    for name in health.drift.drifted:
        assert re.search(rf"<figcaption>feature {name} \(numeric\)[^<]*</figcaption>\s*<svg", text)
    over_time = text[text.index("<h3>over time</h3>") :]
    assert "3 drift checks" in over_time and "<svg" in over_time
    assert "champion v1" in over_time and "champion v2" in over_time  # the alias moves
    assert "dataset drift: " in text and "no verdict yet: 0 labelled rows" in text
    assert "<td>age</td>" in text and "class='drifted'" in text


def test_the_page_loads_nothing_from_anywhere(
    spec: loopml.Spec, registry: Registry, tmp_path: Path
) -> None:
    _shifted(registry, seed=42)
    health = check_health(spec, registry, NAME)
    record_health(registry, health)
    text = render_report([gather_report(registry, health, window=1000)])
    assert "<svg" in text
    references = REFERENCE.findall(text)
    assert references and all(r.startswith("#") for r in references)  # within the page
    assert "<script" not in text.lower() and "<link" not in text.lower()
    assert "@import" not in text
    # the only URLs are the SVG namespace names, which no browser fetches
    assert set(re.findall(r"https?://[^\"'\s)]+", text)) <= {
        "http://www.w3.org/2000/svg",
        "http://www.w3.org/1999/xlink",
    }


def _hostile_report() -> ModelReport:
    """A model whose feature and level names are markup (and not all in the chart's font)."""
    rng = np.random.default_rng(0)
    evil, plan = "<script>alert(1)</script>", "plan <b>"
    levels = np.array(["<b>gold</b>", "日本", "$5-$10"])
    reference = pd.DataFrame(
        {evil: rng.normal(0, 1, 1000), plan: rng.choice(levels, 1000, p=[0.6, 0.3, 0.1])}
    )
    current = pd.DataFrame(
        {evil: rng.normal(3, 1, 600), plan: rng.choice(levels, 600, p=[0.1, 0.3, 0.6])}
    )
    profile = build_profile(reference, predictions=np.zeros(1000, int))
    report = drift_report(profile, current, predictions=np.zeros(600, int))
    assert set(report.drifted) == {evil, plan}
    health = Health(
        name="shop.<i>eu",
        version=1,
        window="last 1000 rows",
        rows=600,
        drift=report,
        performance=Performance(
            metric="accuracy",
            reference=0.9,
            realized=None,
            labelled=0,
            needed=200,
            margin=0.05,
            dropped=False,
            others={},
            note="no verdict yet: 0 labelled rows, 200 needed",
        ),
        checked_at=datetime(2026, 1, 2, tzinfo=UTC),
    )
    window = ServedWindow(
        features=current,
        predictions=[0] * 600,
        probabilities=[None] * 600,
        labels=[None] * 600,
        at=[health.checked_at] * 600,
    )
    return ModelReport(health, profile, window, checks=(), champion_changes=())


def test_names_from_the_data_are_escaped_everywhere() -> None:
    text = render_report([_hostile_report()])
    assert "<script>" not in text and "<b>" not in text and "<i>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in text  # the table and the caption
    assert "&lt;b&gt;gold&lt;/b&gt;" in text  # a level name, inside the chart
    assert "$5-$10" in text  # not read as mathtext
    assert "shop.&lt;i&gt;eu" in text
    assert text.count("<svg") == 2  # both drifted features; no check recorded yet
    assert "no drift check recorded yet" in text


def test_the_report_is_written_whole_and_a_bad_path_is_refused(tmp_path: Path) -> None:
    page = tmp_path / "reports" / "today.html"
    write_report(page, [])
    assert "no model to monitor" in page.read_text()
    write_report(page, [_hostile_report()])
    assert "&lt;script&gt;" in page.read_text()
    assert [p.name for p in page.parent.iterdir()] == ["today.html"]  # no temp file left
    with pytest.raises(InputError, match=r"cannot write the report to .*reports: "):
        write_report(page.parent, [])


def test_drawing_leaves_matplotlib_as_it_found_it() -> None:
    code = (
        "import json, sys\n"
        "import loopml.cli, loopml.ui\n"
        "before = 'matplotlib' in sys.modules\n"
        "from datetime import UTC, datetime\n"
        "from loopml.ui._charts import CheckPoint, timeline_svg\n"
        "import matplotlib\n"
        "svg = timeline_svg([CheckPoint(datetime.now(UTC), 0.5, True, None, 0.9)], [])\n"
        "print(json.dumps([before, 'matplotlib.pyplot' in sys.modules,\n"
        "    matplotlib.rcParams['svg.fonttype'], svg.startswith('<svg')]))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=120
    )
    assert json.loads(done.stdout) == [False, False, "path", True]
