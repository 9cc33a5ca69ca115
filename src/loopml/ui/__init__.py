"""Presentation: progress bars, tables and JSON for people and scripts, and the HTML report.

The report's names are imported on first use: drawing its charts needs matplotlib, which
commands that write no report should not load.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from loopml.ui._json import to_json, to_plain
from loopml.ui._monitor_tables import drift_table, health_view
from loopml.ui._progress import ProgressObserver
from loopml.ui._tables import (
    events_table,
    leaderboard_table,
    models_table,
    plan_table,
    run_detail_table,
    runs_table,
    versions_table,
)
from loopml.ui._timeline import timeline_table, update_table

if TYPE_CHECKING:
    from loopml.ui._report import ModelReport, gather_report, render_report, write_report

__all__ = [
    "ModelReport",
    "ProgressObserver",
    "drift_table",
    "events_table",
    "gather_report",
    "health_view",
    "leaderboard_table",
    "models_table",
    "plan_table",
    "render_report",
    "run_detail_table",
    "runs_table",
    "timeline_table",
    "to_json",
    "to_plain",
    "update_table",
    "versions_table",
    "write_report",
]

_LAZY = frozenset({"ModelReport", "gather_report", "render_report", "write_report"})


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module("loopml.ui._report"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
