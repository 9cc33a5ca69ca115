"""One model's history as a person reads it: alias moves and policy decisions, in order."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from loopml.registry import CHAMPION
from loopml.tracking import AliasEvent, BaseStore, EventKind, ModelEvent, ModelEventKind

__all__ = ["TimelineEntry", "timeline"]


@dataclass(frozen=True)
class TimelineEntry:
    """One line of ``loopml history``: when, what happened, to which version, who, why."""

    at: datetime
    what: str
    version: int | None
    actor: str
    reason: str
    alert: bool = False


def timeline(store: BaseStore, name: str) -> list[TimelineEntry]:
    """Return every alias move and policy event of model ``name``, oldest first."""
    decisions = store.list_model_events(name)
    # A promotion an update decided is told once, by its challenge (which has the numbers).
    won = {
        e.version
        for e in decisions
        if e.kind is ModelEventKind.CHALLENGE and e.data.get("promoted")
    }
    entries = [
        _alias(e)
        for e in store.list_events(name)
        if not (
            e.kind is EventKind.PROMOTE
            and e.to_version in won
            and e.reason.startswith("promoted: ")
        )
    ]
    entries += [_decision(e) for e in decisions]
    # stable: at equal times, alias moves (a registration) come before what followed
    return sorted(entries, key=lambda e: e.at)


def _alias(event: AliasEvent) -> TimelineEntry:
    if event.kind is EventKind.REGISTER:
        what = "trained" if event.alias == CHAMPION else f"trained ({event.alias})"
    elif event.kind is EventKind.ROLLBACK:
        what = "rolled back"
    else:
        what = "promoted"
    if event.kind is not EventKind.REGISTER and event.from_version is not None:
        what += f" (from v{event.from_version})"
    return TimelineEntry(event.at, what, event.to_version, event.actor, event.reason)


def _decision(event: ModelEvent) -> TimelineEntry:
    data = event.data
    kind = event.kind
    alert = False
    if kind is ModelEventKind.DRIFT_CHECK:
        alert = bool(data.get("alerts"))
        what = "drift seen" if data.get("dataset_drift") else "checked"
        if alert and not data.get("dataset_drift"):
            what = "metric dropped"
    elif kind is ModelEventKind.RETRAIN:
        what = "retrained"
    elif kind is ModelEventKind.RETRAIN_SKIPPED:
        what = "retrain skipped"
    elif kind is ModelEventKind.CHALLENGE:
        if data.get("promoted"):
            what = f"challenger won: promoted (from v{data.get('champion')})"
        else:
            what = "champion kept"
    elif kind is ModelEventKind.PROMOTION_LOST:
        what = "lost the race"
    else:
        alert = bool(data.get("rolled_back"))
        what = "guard: rolled back" if alert else "guard: kept"
    return TimelineEntry(event.at, what, event.version, event.actor, event.reason, alert)
