"""The timeline and update outcomes as tables."""

from __future__ import annotations

from collections.abc import Sequence

from rich.table import Table
from rich.text import Text

from loopml.policy import TimelineEntry, UpdateOutcome

__all__ = ["timeline_table", "update_table"]

_WHEN = "%Y-%m-%d %H:%M:%S"
_STYLE = {
    "promoted": "green",
    "rolled_back": "red",
    "lost": "yellow",
    "failed": "red",
    "kept": "cyan",
    "skipped": "dim",
}


def timeline_table(name: str, entries: Sequence[TimelineEntry]) -> Table:
    """Return a model's history: what happened, to which version, who, why."""
    table = Table(title=f"history of {name}", title_justify="left", expand=False)
    for column in ("when (UTC)", "event", "version", "who", "why"):
        table.add_column(column, no_wrap=column != "why", overflow="fold")
    for e in entries:
        what = Text(e.what, style="red" if e.alert else "")
        version = "-" if e.version is None else f"v{e.version}"
        table.add_row(e.at.strftime(_WHEN), what, version, e.actor, e.reason)
    return table


def update_table(outcomes: Sequence[UpdateOutcome]) -> Table:
    """Return one line per model an update looked at: the action, the champion, why."""
    table = Table(title="update", title_justify="left", expand=False)
    for column in ("model", "action", "champion", "why"):
        table.add_column(column, no_wrap=column != "why", overflow="fold")
    for o in outcomes:
        table.add_row(o.name, Text(o.action, style=_STYLE[o.action]), f"v{o.champion}", o.reason)
    return table
