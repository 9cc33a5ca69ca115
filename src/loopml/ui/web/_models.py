"""The pages of the registry and monitoring: models, versions, timelines, drift, traffic."""

from __future__ import annotations

from loopml.policy import check_health, timeline
from loopml.registry import Registry
from loopml.spec import Spec
from loopml.tracking import BaseStore, ModelVersion
from loopml.ui._report import gather_report, model_section
from loopml.ui.web._html import Cell, Row, definitions, e, fmt, link, pages_nav, table, url, when

__all__ = [
    "model_body",
    "models_body",
    "monitor_body",
    "monitor_index_body",
    "timeline_table",
    "version_body",
]

PAGE_SIZE = 50
RECENT_PREDICTIONS = 50


def models_body(spec: Spec, registry: Registry, *, links: bool = True) -> str:
    """Return every registered model: versions, latest, champion and its primary metric."""
    primary = spec.metrics.primary
    rows: list[Row] = []
    for m in registry.models():
        name = link(url("models", m.name), m.name) if links else e(m.name)
        monitor = (
            link(url("monitor", m.name), "monitor") if links and m.champion is not None else ""
        )
        rows.append(
            (
                [
                    Cell(name),
                    str(m.versions),
                    str(m.latest),
                    "-" if m.champion is None else f"v{m.champion}",
                    fmt(m.champion_metrics.get(primary)),
                    Cell(monitor),
                ],
                "",
            )
        )
    if not rows:
        return "<p>no registered model yet: <code>loopml run</code> registers them</p>"
    head = ["model", "versions", "latest", "champion", primary, ""]
    return table(head, rows, numeric=frozenset({"versions", "latest", primary}))


def timeline_table(store: BaseStore, name: str, *, links: bool = True) -> str:
    """Return the model's timeline: registrations, promotions, rollbacks, retrains, checks."""
    rows: list[Row] = [
        (
            [
                when(t.at),
                t.what,
                Cell(
                    "-"
                    if t.version is None
                    else (
                        link(url("models", name, "versions", t.version), f"v{t.version}")
                        if links
                        else f"v{t.version}"
                    )
                ),
                t.actor,
                t.reason,
            ],
            "failed" if t.alert else "",
        )
        for t in timeline(store, name)
    ]
    if not rows:
        return "<p class='note'>nothing happened to this model yet</p>"
    return table(["when (UTC)", "what", "version", "who", "why"], rows)


def model_body(store: BaseStore, name: str, *, page: int = 1) -> str:
    """Return a model's versions (a page at a time, champion marked) and its timeline."""
    versions = store.list_versions(name)
    aliases = store.list_aliases(name).get(name, {})
    shown = versions[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    metrics = sorted({k for v in shown for k in v.metrics})
    rows: list[Row] = []
    for v in shown:
        tags = [a for a, at in aliases.items() if at == v.version]
        tag_html = "".join(f" <span class='tag {e(a)}'>{e(a)}</span>" for a in tags)
        rows.append(
            (
                [
                    Cell(
                        link(url("models", name, "versions", v.version), f"v{v.version}") + tag_html
                    ),
                    *[fmt(v.metrics.get(m)) for m in metrics],
                    when(v.created_at),
                    Cell(f"<code>{link(url('runs', v.run_id), v.run_id[:12])}</code>"),
                ],
                "champion" if "champion" in tags else "",
            )
        )
    parts = [
        f"<p>{link(url('monitor', name), 'monitoring')} of this model</p>",
        f"<h2>versions ({len(versions)})</h2>",
        table(["version", *metrics, "created (UTC)", "run"], rows, numeric=frozenset(metrics)),
        pages_nav(f"/models/{name}", page, more=len(versions) > page * PAGE_SIZE),
        "<h2>timeline</h2>",
        timeline_table(store, name),
    ]
    return "\n".join(parts)


def version_body(store: BaseStore, version: ModelVersion) -> str:
    """Return a version: its metrics, the cell and run it came from, its artifact, aliases."""
    aliases = store.list_aliases(version.name).get(version.name, {})
    tags = [a for a, at in aliases.items() if at == version.version]
    cell = store.get_cell(version.cell_id)
    artifact = store.get_artifact(version.artifact_sha256)
    facts = {
        "model": link(url("models", version.name), version.name),
        "aliases": " ".join(f"<span class='tag {e(a)}'>{e(a)}</span>" for a in tags) or "-",
        "metrics": ", ".join(f"{e(k)} {v:.4f}" for k, v in version.metrics.items()) or "-",
        "created (UTC)": e(when(version.created_at)),
        "cell": "-"
        if cell is None
        else link(url("cells", cell.cell_id), f"{cell.dataset} × {cell.model}"),
        "run": f"<code>{link(url('runs', version.run_id), version.run_id[:12])}</code>",
        "artifact sha256": f"<code class='hash'>{e(version.artifact_sha256)}</code>",
    }
    if artifact is not None:
        facts["artifact size"] = f"{artifact.size_bytes:,} bytes"
        columns = artifact.input_schema.get("columns") or []
        facts["input columns"] = e(
            ", ".join(str(c.get("name")) for c in columns if isinstance(c, dict))
        )
    return definitions(facts)


def monitor_index_body(registry: Registry) -> str:
    """Return the models that have a champion, each linking to its monitoring page."""
    names = [m.name for m in registry.models() if m.champion is not None]
    if not names:
        return "<p>no champion to monitor yet</p>"
    return "<ul>" + "".join(f"<li>{link(url('monitor', n), n)}</li>" for n in names) + "</ul>"


def monitor_body(spec: Spec, registry: Registry, name: str) -> str:
    """Return the champion's health now (not recorded: the UI only reads), its checks over
    time and its recent predictions with their feedback."""
    health = check_health(spec, registry, name)
    section = model_section(gather_report(registry, health, window=spec.monitor.window))
    return section + "\n" + recent_predictions(registry.store, name)


def recent_predictions(store: BaseStore, name: str) -> str:
    """Return the model's latest served rows: when, version, prediction, label, latency."""
    served = store.list_predictions(name, limit=RECENT_PREDICTIONS)
    labelled = store.count_feedback(name)
    total = store.count_predictions(name)
    rows: list[Row] = [
        (
            [
                when(p.at),
                f"v{p.version}",
                repr(p.prediction),
                "-" if f is None else repr(f.label),
                fmt(p.latency_ms, 1),
                ", ".join(f"{k}={v!r}" for k, v in list(p.features.items())[:6]),
            ],
            "" if f is None or f.label == p.prediction else "failed",
        )
        for p, f in served
    ]
    head = ["at (UTC)", "version", "prediction", "label", "latency ms", "features"]
    return (
        f"<h3>recent predictions</h3>\n<p class='meta'>{total:,} served, {labelled:,} "
        f"with feedback; the latest {len(rows)}</p>\n"
        + table(head, rows, numeric=frozenset({"latency ms"}))
    )
