"""What `loopml monitor` prints of a health check: the drift table and its lines.

The cells and lines are plain text first (:func:`drift_rows`, :func:`window_line`, ...),
so that the terminal table and the HTML report say the same thing in the same words.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING

from rich.console import Group
from rich.markup import escape
from rich.table import Table

from loopml.ui._tables import _table

if TYPE_CHECKING:
    from loopml.monitoring import DriftReport, FeatureDrift
    from loopml.policy import Health, Performance

__all__ = [
    "DRIFT_COLUMNS",
    "NUMBER_COLUMNS",
    "drift_rows",
    "drift_table",
    "health_view",
    "performance_line",
    "prediction_line",
    "window_line",
]

DRIFT_COLUMNS = ("feature", "kind", "test", "statistic", "p adj.", "effect", "missing Δ", "drifted")
"""Columns of the drift table; ``p adj.`` is corrected across features, ``missing Δ`` is the
change of the missing-value rate, window minus reference."""
NUMBER_COLUMNS = frozenset({"statistic", "p adj.", "missing Δ"})
_WHEN = "%Y-%m-%d %H:%M:%S UTC"


def _number(value: float) -> str:
    return "-" if math.isnan(value) else f"{value:.3g}"


def _effects(result: FeatureDrift) -> str:
    text = ", ".join(f"{name} {_number(value)}" for name, value in result.effects.items())
    if result.new_levels:
        text += f"; new levels: {', '.join(result.new_levels)}"
    return text


def _drifted(result: FeatureDrift) -> str:
    if result.drifted:
        return "✓"
    return "" if result.tested else result.note


def drift_rows(report: DriftReport) -> list[tuple[str, ...]]:
    """Return one row of plain-text cells per feature, in :data:`DRIFT_COLUMNS` order."""
    return [
        (
            f.feature,
            f.kind,
            f.test,
            _number(f.statistic),
            _number(f.p_adjusted),
            _effects(f),
            f"{f.missing_change:+.1%}",
            _drifted(f),
        )
        for f in report.features
    ]


def window_line(health: Health) -> str:
    """Return which rows were judged: the window, how many rows, which version, when."""
    return (
        f"window: {health.window}, {health.rows} rows served by v{health.version} "
        f"(checked {health.checked_at.strftime(_WHEN)})"
    )


def prediction_line(report: DriftReport) -> str:
    """Return whether the distribution of the answers moved."""
    p = report.prediction
    if p is None:
        return "prediction distribution: not profiled"
    verdict = "drifted" if p.drifted else "did not drift"
    if not p.tested:
        verdict = p.note
    return f"prediction distribution: {verdict} ({p.test} p {_number(p.p_value)}; {_effects(p)})"


def performance_line(p: Performance) -> str:
    """Return the realized primary metric against its reference, or why there is none yet."""
    reference = "-" if p.reference is None else f"{p.reference:.4f}"
    if p.realized is None:
        return f"{p.metric}: {p.note} (reference {reference})"
    verdict = "dropped" if p.dropped else "held"
    return (
        f"{p.metric}: {p.realized:.4f} on {p.labelled} labelled rows vs {reference} at "
        f"validation: {verdict} (alert when more than {p.margin:g} lower)"
    )


def drift_table(name: str, report: DriftReport) -> Table:
    """Return the drift of every feature of ``name``'s window, drifted ones in red."""
    caption = report.reason
    if report.ignored:
        caption += f"; columns the profile does not know: {', '.join(report.ignored)}"
    table = _table(f"drift of {escape(name)}", caption=escape(caption))
    for column in DRIFT_COLUMNS:
        table.add_column(column, justify="right" if column in NUMBER_COLUMNS else "left")
    for cells, result in zip(drift_rows(report), report.features, strict=True):
        style = "red" if result.drifted else ("dim" if not result.tested else None)
        table.add_row(*(escape(c) for c in cells), style=style)
    return table


def health_view(health: Health) -> Group:
    """Return one model's check as the terminal shows it: table, lines, alerts in red."""
    parts: list[Table | str] = [f"[bold]{escape(health.name)}[/] {escape(window_line(health))}"]
    if health.drift is None:
        parts.append(f"[yellow]drift not checked: {escape(health.note)}")
    else:
        parts.append(drift_table(health.name, health.drift))
        parts.append(escape(prediction_line(health.drift)))
    parts.append(escape(performance_line(health.performance)))
    parts.extend(_alerts(health.alerts))
    return Group(*parts)


def _alerts(alerts: Sequence[str]) -> list[str]:
    if not alerts:
        return ["[green]no alert"]
    return [f"[bold red]alert:[/] [red]{escape(a)}" for a in alerts]
