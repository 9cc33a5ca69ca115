"""The shareable report: the UI's leaderboards, charts and timelines in one HTML file.

Self-contained like the monitor report: the stylesheet is inline and the charts are
inline SVG, and it has no links (there is no server behind it), so it can be attached
to a ticket or mailed and opened offline.
"""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

from loopml.errors import ModelNotFound
from loopml.registry import Registry
from loopml.spec import Spec
from loopml.tracking import BaseStore, RunRecord
from loopml.ui._report import write_page
from loopml.ui.web._html import e, page
from loopml.ui.web._models import models_body, monitor_body, timeline_table
from loopml.ui.web._runs import run_body, search_charts

__all__ = ["render_pipeline_report", "write_pipeline_report"]


def write_pipeline_report(path: Path, spec: Spec, registry: Registry) -> None:
    """Write the report of ``spec``'s pipeline to ``path``, whole or not at all."""
    write_page(path, render_pipeline_report(spec, registry))


def render_pipeline_report(
    spec: Spec, registry: Registry, *, generated_at: datetime | None = None
) -> str:
    """Return the report: the latest run's leaderboards and searches, then per registered
    model of the pipeline its timeline and, for a champion, its monitoring."""
    store = registry.store
    at = (generated_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M:%S UTC")
    parts = [f"<p class='meta'>pipeline {e(spec.name)}; generated {at}</p>"]
    latest = store.list_runs(pipeline=spec.name, limit=1)
    if latest:
        run = latest[0]
        parts.append(f"<h2>latest run {e(run.run_id[:12])}</h2>")
        parts.append(run_body(spec, store, run, links=False))
        parts.append(_searches(spec, store, run))
    else:
        parts.append("<p>no runs yet</p>")
    parts.append("<h2>registry</h2>")
    parts.append(models_body(spec, registry, links=False))
    prefix = f"{spec.name}."
    for model in registry.models():
        if not model.name.startswith(prefix):
            continue
        parts.append(f"<h2>{e(model.name)}: timeline</h2>")
        parts.append(timeline_table(store, model.name, links=False))
        if model.champion is not None:
            parts.append(_monitoring(spec, registry, model.name))
    return page(f"loopml report: {spec.name}", "\n".join(parts), inline_css=True)


def _searches(spec: Spec, store: BaseStore, run: RunRecord) -> str:
    parts = []
    cells = [c for c in store.list_cells(run_id=run.run_id) if c.key is not None]
    found = store.find_trials([c.key for c in cells if c.key is not None])
    for cell in cells:
        best = found.get(cell.key or "")
        if best is None:
            continue
        trials = store.list_trials(study_key=best.study_key)
        if len(trials) < 2:
            continue  # one trial is a fit, not a search: nothing to chart
        parts.append(
            f"<h3>search of {e(cell.dataset)} × {e(cell.model)}: {len(trials)} trials</h3>"
        )
        parts.append(search_charts(trials, spec.metrics.primary))
    return "\n".join(parts)


def _monitoring(spec: Spec, registry: Registry, name: str) -> str:
    try:
        return monitor_body(spec, registry, name)
    except ModelNotFound as exc:  # the champion moved away meanwhile
        return f"<p class='note'>{e(exc)}</p>"
