"""The pages of the grid: runs with their plan, per-dataset leaderboards, a cell's search.

Each function returns a page's body as markup, read from the store with bounded queries:
runs by ``limit``, cells by run, trials by study.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from loopml.errors import InputError
from loopml.estimate import format_duration
from loopml.grid import rank_cells
from loopml.registry import CHAMPION
from loopml.spec import Spec
from loopml.tracking import BaseStore, CellRecord, CellState, RunRecord, TrialRecord, TrialState
from loopml.ui._tuning_charts import history_svg, importance, importance_svg, slices_svg
from loopml.ui.web._html import Cell, Row, definitions, e, fmt, link, pages_nav, table, url, when

__all__ = [
    "PAGE_SIZE",
    "SORT_COLUMNS",
    "cell_body",
    "leaderboards",
    "run_body",
    "runs_body",
    "search_body",
    "search_charts",
]

PAGE_SIZE = 50
SORT_COLUMNS = ("fit_seconds", "predict_seconds")
"""Columns a leaderboard sorts by besides the spec's metrics (ascending: faster first)."""


def _seconds(run: RunRecord) -> float | None:
    return None if run.finished_at is None else (run.finished_at - run.started_at).total_seconds()


def _duration(seconds: float | None) -> str:
    return "-" if seconds is None or not math.isfinite(seconds) else format_duration(seconds)


def runs_body(spec: Spec, store: BaseStore, *, page: int = 1) -> str:
    """Return the pipeline's runs, newest first, each with its plan's estimate and actual time."""
    runs = store.list_runs(pipeline=spec.name, limit=page * PAGE_SIZE + 1)
    shown = runs[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    rows: list[Row] = []
    for r in shown:
        estimated = float(r.estimate["seconds"]) if r.estimate and "seconds" in r.estimate else None
        actual = _seconds(r)
        ratio = "-" if not (estimated and actual) else f"{actual / estimated:.2f}×"
        rows.append(
            (
                [
                    Cell(f"<code>{link(url('runs', r.run_id), r.run_id[:12])}</code>"),
                    r.state.value,
                    when(r.started_at),
                    _duration(estimated),
                    _duration(actual),
                    ratio,
                    str(r.n_cells),
                    str(r.n_failed),
                    Cell(f"<code>{e((r.lineage.git_commit or '-')[:10])}</code>"),
                ],
                "failed" if r.n_failed else "",
            )
        )
    head = [
        "run",
        "state",
        "started (UTC)",
        "estimate",
        "actual",
        "actual/estimate",
        "cells",
        "failed",
        "git",
    ]
    datasets = ", ".join(e(d) for d in spec.datasets)
    parts = [
        f"<p class='meta'>pipeline <b>{e(spec.name)}</b>: datasets {datasets}; "
        f"models {', '.join(e(m) for m in spec.models)}</p>",
        table(head, rows, numeric=frozenset({"cells", "failed"}))
        if rows
        else "<p>no runs yet: <code>loopml run</code> first</p>",
        pages_nav("/", page, more=len(runs) > page * PAGE_SIZE),
    ]
    return "\n".join(parts)


def champion_keys(spec: Spec, store: BaseStore) -> dict[str, str]:
    """Return, per dataset with a champion, the content key of the champion's cell."""
    keys = {}
    for dataset in spec.datasets:
        name = spec.registered_name(dataset)
        version = store.get_alias(name, CHAMPION)
        if version is None:
            continue
        cell = store.get_cell(store.get_version(name, version).cell_id)
        if cell is not None and cell.key is not None:
            keys[dataset] = cell.key
    return keys


def sort_cells(
    cells: Sequence[CellRecord], metrics: Sequence[str], sort: str | None
) -> list[CellRecord]:
    """Return cells best first by ``sort`` (a metric, or a time: fastest first), failed last."""
    if sort is None:
        return rank_cells(cells, metrics)
    if sort not in (*metrics, *SORT_COLUMNS):
        raise InputError(
            f"cannot sort by {sort!r}: choose one of {', '.join((*metrics, *SORT_COLUMNS))}"
        )

    def key(cell: CellRecord) -> float:
        if sort in SORT_COLUMNS:
            value = getattr(cell, sort)
            return math.inf if value is None else float(value)
        score = cell.metrics.get(sort, math.nan)
        return math.inf if math.isnan(score) else -score

    done = [c for c in cells if c.state is CellState.COMPLETE]
    return sorted(done, key=key) + [c for c in cells if c.state is not CellState.COMPLETE]


def leaderboards(
    spec: Spec,
    store: BaseStore,
    run: RunRecord,
    *,
    sort: str | None = None,
    links: bool = True,
) -> str:
    """Return the run's cells as one leaderboard per dataset, best first.

    Column heads link to the page sorted by that column; ``links`` False (a report) leaves
    out every link. The champion's work is marked, and cached and failed cells.
    """
    metrics = spec.metrics.all
    cells = store.list_cells(run_id=run.run_id)
    champions = champion_keys(spec, store)
    by_dataset: dict[str, list[CellRecord]] = {}
    for cell in cells:
        by_dataset.setdefault(cell.dataset, []).append(cell)
    columns = [*metrics, *SORT_COLUMNS]
    parts = []
    for dataset, group in by_dataset.items():
        rows: list[Row] = []
        for rank, cell in enumerate(sort_cells(group, metrics, sort), start=1):
            done = cell.state is CellState.COMPLETE
            champion = champions.get(dataset) is not None and champions.get(dataset) == cell.key
            model = link(url("cells", cell.cell_id), cell.model) if links else e(cell.model)
            tags = (" <span class='tag champion'>champion</span>" if champion else "") + (
                " <span class='tag'>cached</span>" if cell.cached else ""
            )
            rows.append(
                (
                    [
                        str(rank) if done else "-",
                        Cell(model + tags),
                        *[fmt(cell.metrics.get(m)) for m in metrics],
                        fmt(None if cell.fit_seconds is None else cell.fit_seconds * 1000, 1),
                        fmt(
                            None if cell.predict_seconds is None else cell.predict_seconds * 1000, 1
                        ),
                        str(cell.n_trials),
                        cell.state.value
                        if cell.error is None
                        else f"{cell.state.value}: {cell.error}",
                    ],
                    "champion"
                    if champion
                    else ("failed" if not done else ("cached" if cell.cached else "")),
                )
            )
        head = ["#", "model", *metrics, "fit ms", "predict ms", "trials", "state"]
        sortable = zip([*metrics, "fit ms", "predict ms"], columns, strict=True)
        head_links = {h: url("runs", run.run_id, sort=c) for h, c in sortable} if links else {}
        caption = f"sorted by {e(sort or 'the primary metric')}"
        parts.append(f"<h2>{e(dataset)}</h2>")
        parts.append(
            table(
                head,
                rows,
                numeric=frozenset({"#", *metrics, "fit ms", "predict ms", "trials"}),
                caption=caption + ("; click a column to sort" if links else ""),
                head_links=head_links,
            )
        )
    return "\n".join(parts) or "<p>this run recorded no cells</p>"


def run_body(
    spec: Spec, store: BaseStore, run: RunRecord, *, sort: str | None = None, links: bool = True
) -> str:
    """Return a run's header (state, lineage, plan against actual) and its leaderboards."""
    estimated = (
        float(run.estimate["seconds"]) if run.estimate and "seconds" in run.estimate else None
    )
    facts = {
        "state": e(run.state.value),
        "started (UTC)": e(when(run.started_at)),
        "estimate": e(_duration(estimated)),
        "actual": e(_duration(_seconds(run))),
        "cells": f"{run.n_cells} ({run.n_failed} failed)",
        "workers": str(run.workers),
        **_lineage(run),
    }
    return definitions(facts) + "\n" + leaderboards(spec, store, run, sort=sort, links=links)


def _lineage(run: RunRecord) -> dict[str, str]:
    lineage = run.lineage
    packages = ", ".join(f"{e(k)} {e(v)}" for k, v in sorted(lineage.packages.items()))
    return {
        "spec hash": f"<code>{e(lineage.spec_hash)}</code>",
        "git commit": f"<code>{e(lineage.git_commit or '-')}</code>",
        "loopml / python": f"{e(lineage.loopml_version)} / {e(lineage.python_version)}",
        "packages": packages or "-",
    }


def cell_body(spec: Spec, store: BaseStore, cell: CellRecord, *, page: int = 1) -> str:
    """Return a cell: its best trial's params, rungs, timings, lineage and artifact, the
    versions registered from it, and its search (history, slices, every trial)."""
    run = store.get_run(cell.run_id)
    found = store.find_trials([cell.key]) if cell.key else {}
    best = found.get(cell.key) if cell.key else None
    facts = {
        "run": f"<code>{link(url('runs', cell.run_id), cell.run_id[:12])}</code>",
        "state": e(cell.state.value)
        + (" (cached: trained by an earlier run)" if cell.cached else ""),
        "estimator": f"<code>{e(cell.estimator)}</code>",
        "metrics": ", ".join(f"{e(k)} {v:.4f}" for k, v in cell.metrics.items()) or "-",
        "fit / predict": f"{fmt(cell.fit_seconds, 3)} s / {fmt(cell.predict_seconds, 3)} s",
        "dataset fingerprint": f"<code>{e(cell.dataset_fingerprint)}</code>",
        "artifact sha256": f"<code class='hash'>{e(cell.artifact_sha256 or '-')}</code>",
    }
    if cell.error:
        facts["error"] = f"<span class='bad'>{e(cell.error)}</span>"
    if run is not None:
        facts.update(_lineage(run))
    parts = [definitions(facts), "<h2>params</h2>", _params(cell.params)]
    # A cached cell is the same work as the cell a version was registered from: same artifact.
    versions = [
        v
        for v in store.list_versions(spec.registered_name(cell.dataset))
        if v.cell_id == cell.cell_id or v.artifact_sha256 == cell.artifact_sha256
    ]
    parts.append("<h2>model versions from this cell</h2>")
    if versions:
        items = "".join(
            "<li>"
            + link(url("models", v.name, "versions", v.version), f"{v.name} v{v.version}")
            + "</li>"
            for v in versions
        )
        parts.append(f"<ul>{items}</ul>")
    else:
        parts.append("<p class='note'>none: another cell was better, or it was not registered</p>")
    if best is not None:
        parts.append(_rungs(best))
        parts.append(search_body(spec, store, best.study_key, page=page, cell_id=cell.cell_id))
    return "\n".join(parts)


def _params(params: object) -> str:
    if not isinstance(params, dict) or not params:
        return "<p class='note'>none</p>"
    return table(["param", "value"], [([k, repr(v)], "") for k, v in sorted(params.items())])


def _rungs(trial: TrialRecord) -> str:
    rows = [
        ([str(r.step), f"{r.budget:g}", fmt(r.value), fmt(r.seconds, 3)], "") for r in trial.rungs
    ]
    return f"<h2>best trial #{trial.number}: every rung</h2>" + table(
        ["step", "budget", "value", "seconds"],
        rows,
        numeric=frozenset({"step", "budget", "value", "seconds"}),
    )


def search_charts(trials: Sequence[TrialRecord], metric: str) -> str:
    """Return a search's optimization history and, when params were tuned, their
    importance and slices."""
    if not trials:
        return ""
    parts = [
        f"<figure><figcaption>optimization history ({e(metric)})</figcaption>"
        f"{history_svg(trials, metric)}</figure>"
    ]
    shares = importance(trials)
    if shares:
        parts.append(
            "<figure><figcaption>parameter importance: how much of the score's spread each "
            f"tuned parameter explains</figcaption>{importance_svg(shares)}</figure>"
        )
    slices = slices_svg(trials, metric)
    if slices is not None:
        parts.append(
            f"<figure><figcaption>slices: {e(metric)} against each tuned parameter"
            f"</figcaption>{slices}</figure>"
        )
    return "\n".join(parts)


def search_body(
    spec: Spec, store: BaseStore, study_key: str, *, page: int, cell_id: str | None
) -> str:
    """Return a search's charts and its trials, a page at a time, pruned ones marked."""
    trials = store.list_trials(study_key=study_key)
    metric = spec.metrics.primary
    parts = [f"<h2>tuning: {len(trials)} trials</h2>", search_charts(trials, metric)]
    newest = list(reversed(trials))
    shown = newest[(page - 1) * PAGE_SIZE : page * PAGE_SIZE]
    rows: list[Row] = []
    for t in shown:
        value = t.rungs[-1].value if t.rungs else None
        rungs = " → ".join(f"{r.value:.4f}@{r.budget:g}" for r in t.rungs) or "-"
        rows.append(
            (
                [
                    str(t.number),
                    t.state.value,
                    fmt(value),
                    rungs,
                    fmt(t.seconds, 3),
                    ", ".join(f"{k}={v!r}" for k, v in sorted(t.params.items())),
                ],
                t.state.value.lower() if t.state is not TrialState.COMPLETE else "",
            )
        )
    parts.append(
        table(
            ["trial", "state", metric, "rungs (value@budget)", "seconds", "params"],
            rows,
            numeric=frozenset({"trial", "seconds"}),
        )
    )
    if cell_id is not None:
        parts.append(pages_nav(f"/cells/{cell_id}", page, more=len(newest) > page * PAGE_SIZE))
    return "\n".join(parts)
