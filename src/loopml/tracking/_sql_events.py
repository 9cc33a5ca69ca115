"""Model events in SQL: the statements behind :class:`SQLStore`'s timeline of decisions.

Each function runs inside a transaction the store opened; the store owns connections,
locking and error translation. Events are only ever inserted, so concurrent writers never
conflict: the database numbers them.
"""

from __future__ import annotations

from collections.abc import Collection
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, insert, select
from sqlalchemy.engine import Connection

from loopml.tracking._records import ModelEvent, ModelEventKind
from loopml.tracking._rows import model_event_record, model_event_row
from loopml.tracking._schema import model_events

__all__ = ["events_query", "insert_event", "latest"]

_EVENTS = model_events.c
_INSERT = insert(model_events).returning(_EVENTS.event_id)
_LATEST = (
    select(model_events)
    .where(_EVENTS.name == bindparam("name"), _EVENTS.kind == bindparam("kind"))
    .order_by(_EVENTS.at.desc(), _EVENTS.event_id.desc())
    .limit(1)
)


def insert_event(conn: Connection, event: ModelEvent) -> int:
    """Insert the event; return the ``event_id`` the database gave it."""
    row = model_event_row(event)
    return int(conn.execute(_INSERT, row).scalar_one())


def events_query(
    name: str, *, kinds: Collection[ModelEventKind] | None, since: datetime | None
) -> Select[Any]:
    """Return the query of ``list_model_events``: oldest first, ties in insertion order."""
    query = select(model_events).where(_EVENTS.name == name)
    if kinds is not None:
        query = query.where(_EVENTS.kind.in_(sorted(kind.value for kind in kinds)))
    if since is not None:
        query = query.where(_EVENTS.at >= since)
    return query.order_by(_EVENTS.at, _EVENTS.event_id)


def latest(conn: Connection, name: str, kind: ModelEventKind) -> ModelEvent | None:
    """Return the event of ``kind`` with the greatest ``at`` (then id) for ``name``, or None."""
    row = conn.execute(_LATEST, {"name": name, "kind": kind.value}).first()
    return None if row is None else model_event_record(row)
