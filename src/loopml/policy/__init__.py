"""The update policy: watch each champion, retrain when the world moves, promote or roll back.

:func:`check_health` looks at a champion's recent served rows (drift against its reference
profile) and at its score on the labels that came back; :func:`update_model` evaluates the
spec's triggers, retrains through the grid, compares challenger with champion on recent
labelled rows neither trained on, and promotes by compare-and-set. Every decision is a
:class:`~loopml.tracking.ModelEvent` on the model's timeline, with its reasons and numbers.
"""

from __future__ import annotations

from loopml.policy._guard import GuardOutcome, guard_champion
from loopml.policy._health import Health, Performance, check_health, record_health, score_window
from loopml.policy._timeline import TimelineEntry, timeline
from loopml.policy._update import UpdateOutcome, dataset_of, update_model
from loopml.policy._window import ServedWindow, describe_window, read_window

__all__ = [
    "GuardOutcome",
    "Health",
    "Performance",
    "ServedWindow",
    "TimelineEntry",
    "UpdateOutcome",
    "check_health",
    "dataset_of",
    "describe_window",
    "guard_champion",
    "read_window",
    "record_health",
    "score_window",
    "timeline",
    "update_model",
]
