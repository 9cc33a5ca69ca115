"""Presentation: progress bars, tables and JSON for people and scripts."""

from __future__ import annotations

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

__all__ = [
    "ProgressObserver",
    "drift_table",
    "events_table",
    "health_view",
    "leaderboard_table",
    "models_table",
    "plan_table",
    "run_detail_table",
    "runs_table",
    "to_json",
    "to_plain",
    "versions_table",
]
