"""Presentation: progress bars, tables and JSON for people and scripts."""

from __future__ import annotations

from loopml.ui._json import to_json, to_plain
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

__all__ = [
    "ProgressObserver",
    "events_table",
    "leaderboard_table",
    "models_table",
    "plan_table",
    "run_detail_table",
    "runs_table",
    "timeline_table",
    "to_json",
    "to_plain",
    "update_table",
    "versions_table",
]
