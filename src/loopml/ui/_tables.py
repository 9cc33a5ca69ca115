"""Tables a person compares: leaderboards, runs, registered models, alias history."""

from __future__ import annotations

import math
from collections import Counter
from collections.abc import Mapping, Sequence

from rich import box
from rich.table import Table

from loopml.estimate import format_duration
from loopml.grid import RunPlan
from loopml.registry import ModelSummary
from loopml.tracking import (
    AliasEvent,
    CellRecord,
    CellState,
    ModelVersion,
    RunRecord,
    TrialRecord,
    TrialState,
)

__all__ = [
    "events_table",
    "leaderboard_table",
    "models_table",
    "plan_table",
    "run_detail_table",
    "runs_table",
    "versions_table",
]


def _table(title: str, caption: str | None = None) -> Table:
    """Return a table in loopml's compact style: a rule under the header, no side borders."""
    return Table(
        box=box.SIMPLE_HEAD,
        title=title,
        title_justify="left",
        caption=caption,
        caption_justify="left",
        pad_edge=False,
    )


_WHEN = "%m-%d %H:%M:%S"  # UTC; --json has the full ISO 8601 timestamps


def _fmt(value: float | None, digits: int = 4) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _ms(seconds: float | None) -> str:
    return "-" if seconds is None else f"{seconds * 1000:.1f}"


def leaderboard_table(
    title: str,
    cells: Sequence[CellRecord],
    metrics: Sequence[str],
    *,
    champion_key: str | None = None,
) -> Table:
    """Return one dataset's cells, best first, the champion's work marked (same content key)."""
    table = _table(title, caption="★ champion")
    table.add_column("#", justify="right")
    table.add_column("model", no_wrap=True)
    for name in metrics:
        table.add_column(name, justify="right")
    table.add_column("fit ms", justify="right", no_wrap=True)
    table.add_column("predict ms", justify="right", no_wrap=True)
    table.add_column("trials", justify="right")
    table.add_column("state")
    for rank, cell in enumerate(cells, start=1):
        mark = " [green]★[/]" if champion_key and cell.key == champion_key else ""
        state = cell.state.value if cell.state is CellState.COMPLETE else f"[red]{cell.state.value}"
        table.add_row(
            str(rank) if cell.state is CellState.COMPLETE else "-",
            cell.model + mark,
            *[_fmt(cell.metrics.get(m)) for m in metrics],
            _ms(cell.fit_seconds),
            _ms(cell.predict_seconds),
            str(cell.n_trials),
            state + (" [dim](cached)" if cell.cached else ""),
        )
    return table


def runs_table(runs: Sequence[RunRecord]) -> Table:
    table = _table("runs (UTC)")
    for col in ("run", "state", "started", "secs", "cells", "failed", "workers", "git"):
        table.add_column(col, no_wrap=True)
    for r in runs:
        seconds = (r.finished_at - r.started_at).total_seconds() if r.finished_at else None
        color = {"COMPLETE": "green", "FAILED": "red"}.get(r.state.value, "yellow")
        table.add_row(
            r.run_id[:8],
            f"[{color}]{r.state.value}",
            r.started_at.strftime(_WHEN),
            _fmt(seconds, 1),
            str(r.n_cells),
            str(r.n_failed),
            str(r.workers),
            (r.lineage.git_commit or "-")[:7],
        )
    return table


def models_table(models: Sequence[ModelSummary], primary: str | None) -> Table:
    table = _table("registered models")
    for col in ("name", "versions", "latest", "champion", primary or "champion metric"):
        table.add_column(col)
    for m in models:
        value = m.champion_metrics.get(primary) if primary else None
        table.add_row(
            m.name,
            str(m.versions),
            str(m.latest),
            str(m.champion) if m.champion is not None else "-",
            _fmt(value),
        )
    return table


def versions_table(
    name: str, versions: Sequence[ModelVersion], aliases: Mapping[str, int], metrics: Sequence[str]
) -> Table:
    table = _table(f"versions of {name}")
    table.add_column("version", justify="right")
    table.add_column("aliases")
    for m in metrics:
        table.add_column(m, justify="right")
    table.add_column("created (UTC)", no_wrap=True)
    table.add_column("run", no_wrap=True)
    for v in versions:
        tags = ", ".join(a for a, ver in aliases.items() if ver == v.version)
        table.add_row(
            str(v.version),
            f"[green]{tags}" if tags else "",
            *[_fmt(v.metrics.get(m)) for m in metrics],
            v.created_at.strftime(_WHEN),
            v.run_id[:8],
        )
    return table


def events_table(name: str, events: Sequence[AliasEvent]) -> Table:
    table = _table(f"alias history of {name}")
    for col in ("when (UTC)", "alias", "event", "from", "to", "who", "why"):
        table.add_column(col, no_wrap=col != "why")
    for e in events:
        table.add_row(
            e.at.strftime(_WHEN),
            e.alias,
            e.kind.value,
            "-" if e.from_version is None else str(e.from_version),
            str(e.to_version),
            e.actor,
            e.reason,
        )
    return table


def plan_table(plan: RunPlan) -> Table:
    """Return the plan: per dataset and model, trials cached / to run and their cost."""
    table = _table(f"plan for {plan.pipeline}")
    for col in ("dataset", "model", "trials", "cached", "to run", "per trial", "basis"):
        table.add_column(
            col, justify="right" if col in {"trials", "cached", "to run", "per trial"} else "left"
        )
    for s in plan.studies:
        color = "dim" if s.to_run == 0 else "green"
        table.add_row(
            s.dataset,
            s.model,
            str(s.trials),
            str(s.cached),
            f"[{color}]{s.to_run}",
            format_duration(s.seconds_per_trial) if math.isfinite(s.seconds_per_trial) else "?",
            s.basis,
        )
    return table


def run_detail_table(run: RunRecord, trials: Sequence[TrialRecord]) -> Table:
    """Return a run's trials per dataset and model: run, pruned, failed, compute seconds."""
    table = _table(f"run {run.run_id[:8]}: trials")
    for col in ("dataset", "model", "complete", "pruned", "failed", "abandoned", "compute"):
        table.add_column(col, justify="left" if col in {"dataset", "model"} else "right")
    groups: dict[tuple[str, str], list[TrialRecord]] = {}
    for t in trials:
        groups.setdefault((t.dataset, t.model), []).append(t)
    for (dataset, model), group in groups.items():
        states = Counter(t.state for t in group)
        table.add_row(
            dataset,
            model,
            str(states[TrialState.COMPLETE]),
            str(states[TrialState.PRUNED]),
            str(states[TrialState.FAILED]),
            str(states[TrialState.ABANDONED]),
            format_duration(sum(t.seconds for t in group)),
        )
    return table
