"""The monitor report: one self-contained HTML page of every model's health, with charts.

Self-contained: the style is inline and the charts are inline SVG, so the page loads
nothing (it can be mailed, archived or opened offline). Every string that comes from the
user's data or spec (model, feature and level names, notes) is HTML-escaped.
"""

from __future__ import annotations

import html
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from loopml._files import write_atomically
from loopml.errors import InputError
from loopml.monitoring import ReferenceProfile
from loopml.policy import Health, ServedWindow, read_window
from loopml.registry import CHAMPION, Registry
from loopml.tracking import AliasEvent, ModelEvent, ModelEventKind
from loopml.ui._charts import ChampionChange, CheckPoint, distribution_svg, timeline_svg
from loopml.ui._monitor_tables import (
    DRIFT_COLUMNS,
    NUMBER_COLUMNS,
    drift_rows,
    performance_line,
    prediction_line,
    window_line,
)

__all__ = [
    "ModelReport",
    "gather_report",
    "model_section",
    "render_report",
    "write_page",
    "write_report",
]

_WHEN = "%Y-%m-%d %H:%M:%S UTC"
_CSS = """
body { font: 14px/1.45 system-ui, sans-serif; margin: 2em auto; max-width: 72em;
       padding: 0 1em; color: #222; }
h1 { font-size: 1.5em; } h2 { margin-top: 2em; border-bottom: 1px solid #ccc; }
.meta, .note, caption { color: #666; }
.alerts { color: #b00; font-weight: 600; } .ok { color: #070; }
table { border-collapse: collapse; margin: 1em 0; }
caption { caption-side: bottom; text-align: left; padding-top: .4em; }
th, td { padding: .2em .7em; border-bottom: 1px solid #eee; text-align: left; }
td.num { text-align: right; font-variant-numeric: tabular-nums; }
tr.drifted td { color: #b00; font-weight: 600; }
figure { margin: 1em 0; } figcaption { color: #444; }
svg { max-width: 100%; height: auto; }
"""


@dataclass(frozen=True)
class ModelReport:
    """One model in the report: its check and what the charts are drawn from.

    ``window`` holds the served rows the check judged, or None when nothing drifted (no
    distribution to draw). ``checks`` are the model's drift-check events, oldest first;
    ``champion_changes`` the moves of its champion alias.
    """

    health: Health
    profile: ReferenceProfile | None
    window: ServedWindow | None
    checks: tuple[ModelEvent, ...]
    champion_changes: tuple[AliasEvent, ...]


def gather_report(registry: Registry, health: Health, *, window: int | float) -> ModelReport:
    """Return what the report shows of ``health``'s model, read from the registry's store.

    ``window`` is the one the check used. The served rows are read again, as of
    ``health.checked_at`` (in a window of rows, rows served since then take the place of
    the oldest), and only when there are drifted distributions to draw.
    """
    store = registry.store
    profile = registry.profile(health.name, health.version)
    served = None
    if profile is not None and _has_drifted(health):
        served = read_window(
            store,
            health.name,
            window=window,
            now=health.checked_at,
            version=health.version,
            profile=profile,
        )
    return ModelReport(
        health=health,
        profile=profile,
        window=served,
        checks=tuple(store.list_model_events(health.name, kinds=[ModelEventKind.DRIFT_CHECK])),
        champion_changes=tuple(store.list_events(health.name, alias=CHAMPION)),
    )


def write_report(path: Path, reports: Sequence[ModelReport]) -> None:
    """Write the page of ``reports`` to ``path``, whole or not at all."""
    write_page(path, render_report(reports))


def write_page(path: Path, page: str) -> None:
    """Write ``page`` to ``path`` atomically; raise InputError if the path is not writable."""
    try:
        write_atomically(path, page.encode("utf-8"))
    except OSError as exc:
        raise InputError(
            f"cannot write the report to {path}: {exc}. Choose a path you can write to"
        ) from exc


def render_report(reports: Sequence[ModelReport], *, generated_at: datetime | None = None) -> str:
    """Return the HTML page of ``reports``: per model its alerts, drift table and charts."""
    when = (generated_at or datetime.now(UTC)).strftime(_WHEN)
    alerting = sum(r.health.alert for r in reports)
    models = f"{len(reports)} model{'' if len(reports) == 1 else 's'}"
    body = "\n".join(model_section(r) for r in reports) or "<p>no model to monitor</p>"
    return (
        "<!doctype html>\n<html lang='en'>\n<head>\n<meta charset='utf-8'>\n"
        "<meta name='viewport' content='width=device-width, initial-scale=1'>\n"
        f"<title>loopml monitor</title>\n<style>{_CSS}</style>\n</head>\n<body>\n"
        "<h1>loopml monitor</h1>\n"
        f"<p class='meta'>{models}, {alerting} with alerts; generated {when}</p>\n"
        f"{body}\n</body>\n</html>\n"
    )


def _e(text: object) -> str:
    return html.escape(str(text), quote=True)


def _has_drifted(health: Health) -> bool:
    drift = health.drift
    if drift is None:
        return False
    return bool(drift.drifted) or (drift.prediction is not None and drift.prediction.drifted)


def model_section(report: ModelReport) -> str:
    """Return one model's section: alerts, drift table, drifted distributions, checks."""
    health = report.health
    parts = [
        f"<section class='model'>\n<h2>{_e(health.name)} "
        f"<small class='meta'>champion v{health.version}</small></h2>",
        f"<p class='meta'>{_e(window_line(health))}</p>",
    ]
    if health.alerts:
        items = "".join(f"<li>{_e(a)}</li>" for a in health.alerts)
        parts.append(f"<ul class='alerts'>{items}</ul>")
    else:
        parts.append("<p class='ok'>no alert</p>")
    parts.append(f"<p>{_e(performance_line(health.performance))}</p>")
    if health.drift is None:
        parts.append(f"<p class='note'>drift not checked: {_e(health.note)}</p>")
    else:
        parts.append(_drift_table(health))
        parts.append(f"<p>{_e(prediction_line(health.drift))}</p>")
        parts.append(_distributions(report))
    parts.append(_over_time(report))
    parts.append("</section>")
    return "\n".join(parts)


def _drift_table(health: Health) -> str:
    assert health.drift is not None
    head = "".join(f"<th>{_e(c)}</th>" for c in DRIFT_COLUMNS)
    rows = []
    for cells, result in zip(drift_rows(health.drift), health.drift.features, strict=True):
        tds = "".join(
            f"<td class='num'>{_e(c)}</td>" if column in NUMBER_COLUMNS else f"<td>{_e(c)}</td>"
            for column, c in zip(DRIFT_COLUMNS, cells, strict=True)
        )
        rows.append(f"<tr class='drifted'>{tds}</tr>" if result.drifted else f"<tr>{tds}</tr>")
    return (
        f"<table>\n<caption>{_e(health.drift.reason)}</caption>\n<thead><tr>{head}</tr></thead>\n"
        f"<tbody>\n{chr(10).join(rows)}\n</tbody>\n</table>"
    )


def _distributions(report: ModelReport) -> str:
    drift, profile, window = report.health.drift, report.profile, report.window
    if drift is None or profile is None or window is None:
        return ""
    shown = [
        (f"feature {f.feature}", profile.feature(f.feature), window.features[f.feature])
        for f in drift.features
        if f.drifted
    ]
    if drift.prediction is not None and drift.prediction.drifted and profile.prediction:
        predictions = pd.Series(window.predictions, dtype=object)
        shown.append(("the prediction", profile.prediction, predictions))
    if not shown:
        return ""
    figures = ["<h3>drifted distributions</h3>"]
    for what, reference, values in shown:
        how = (
            "densities over the same bins, reference sample against the window"
            if reference.kind == "numeric"
            else "share of each level, reference against the window"
        )
        figures.append(
            f"<figure>\n<figcaption>{_e(what)} ({reference.kind}): {how}</figcaption>\n"
            f"{distribution_svg(reference, values)}\n</figure>"
        )
    return "\n".join(figures)


def _over_time(report: ModelReport) -> str:
    if not report.checks:
        return "<p class='note'>no drift check recorded yet</p>"
    checks = [_point(e) for e in report.checks]
    first, last = checks[0].at, checks[-1].at
    changes = [
        ChampionChange(at=e.at, version=e.to_version)
        for e in report.champion_changes
        if first <= e.at <= last
    ]
    drift = report.health.drift
    svg = timeline_svg(
        checks, changes, dataset_share=None if drift is None else drift.settings.dataset_share
    )
    metric = report.health.performance.metric
    return (
        f"<h3>over time</h3>\n<figure>\n<figcaption>{len(checks)} drift checks: the drifted "
        f"share of features, and realized {_e(metric)} against its reference; dotted lines "
        f"mark champion changes</figcaption>\n{svg}\n</figure>"
    )


def _point(event: ModelEvent) -> CheckPoint:
    data = event.data
    performance = data.get("performance")
    if not isinstance(performance, Mapping):
        performance = {}
    return CheckPoint(
        at=event.at,
        share=_number(data.get("share")),
        dataset_drift=data.get("dataset_drift") is True,
        realized=_number(performance.get("realized")),
        reference=_number(performance.get("reference")),
    )


def _number(value: object) -> float | None:
    """Return a JSON number as float; None for null or anything else (events are old data)."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value)
