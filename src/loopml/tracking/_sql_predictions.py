"""Served predictions and feedback in SQL: the statements behind :class:`SQLStore`'s methods.

Each function runs inside a transaction the store opened; the store owns connections,
locking and error translation. On PostgreSQL and SQLite the writes are single
``INSERT ... ON CONFLICT`` statements, safe with any number of concurrent writers; other
databases get a portable read-then-write that assumes one writer per key at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from loopml.tracking._records import FeedbackRecord, PredictionRecord
from loopml.tracking._rows import feedback_row, prediction_record, prediction_row
from loopml.tracking._schema import feedback, predictions

__all__ = [
    "count",
    "count_labelled",
    "insert_predictions",
    "listed",
    "predictions_query",
    "upsert_feedback",
]

_KEY = ["request_id", "row"]
_UPSERT_DIALECTS = ("postgresql", "sqlite")
_STORED_PREDICTION = select(predictions.c.row).where(
    predictions.c.request_id == bindparam("request_id"), predictions.c.row == bindparam("row")
)
_STORED_LABEL_AT = select(feedback.c.at).where(
    feedback.c.request_id == bindparam("request_id"), feedback.c.row == bindparam("row")
)
# ``b_`` names: an UPDATE's WHERE may not bind the name of a column it sets.
_REPLACE_LABEL = update(feedback).where(
    feedback.c.request_id == bindparam("b_request_id"), feedback.c.row == bindparam("b_row")
)


def _by_key(record: PredictionRecord | FeedbackRecord) -> tuple[str, int]:
    return record.request_id, record.row


def insert_predictions(
    conn: Connection, batch: Sequence[PredictionRecord], *, portable: bool = False
) -> None:
    """Insert the predictions whose key is not stored yet; skip the others.

    ``portable`` forces the read-then-write used on databases without ``ON CONFLICT``.
    """
    # One order for every writer: two batches sharing keys cannot deadlock.
    rows = [prediction_row(record) for record in sorted(batch, key=_by_key)]
    dialect = conn.dialect.name
    if dialect in _UPSERT_DIALECTS and not portable:
        make = pg_insert if dialect == "postgresql" else sqlite_insert
        conn.execute(make(predictions).on_conflict_do_nothing(index_elements=_KEY), rows)
        return
    for row in rows:
        if conn.execute(_STORED_PREDICTION, row).first() is None:
            conn.execute(insert(predictions), row)


def upsert_feedback(
    conn: Connection, batch: Sequence[FeedbackRecord], *, portable: bool = False
) -> None:
    """Store each label unless a label with a later ``at`` is stored for its key.

    ``portable`` forces the read-then-write used on databases without ``ON CONFLICT``.
    """
    rows = [feedback_row(record) for record in sorted(batch, key=_by_key)]
    dialect = conn.dialect.name
    if dialect in _UPSERT_DIALECTS and not portable:
        make = pg_insert if dialect == "postgresql" else sqlite_insert
        new = make(feedback)
        upsert = new.on_conflict_do_update(
            index_elements=_KEY,
            set_={column: new.excluded[column] for column in ("name", "label", "at")},
            where=feedback.c.at <= new.excluded.at,
        )
        conn.execute(upsert, rows)
        return
    for row in rows:
        stored_at: datetime | None = conn.scalar(_STORED_LABEL_AT, row)
        if stored_at is None:
            conn.execute(insert(feedback), row)
        elif stored_at <= row["at"]:
            values = {"name": row["name"], "label": row["label"], "at": row["at"]}
            conn.execute(
                _REPLACE_LABEL.values(values),
                {"b_request_id": row["request_id"], "b_row": row["row"]},
            )


def _of_model(name: str, since: datetime | None, version: int | None) -> list[ColumnElement[bool]]:
    """Return the conditions keeping predictions of ``name``, ``since`` and ``version``."""
    p = predictions.c
    conditions = [p.name == name]
    if since is not None:
        conditions.append(p.at >= since)
    if version is not None:
        conditions.append(p.version == version)
    return conditions


def predictions_query(
    name: str,
    *,
    since: datetime | None,
    limit: int | None,
    with_feedback: bool,
    version: int | None = None,
) -> Select[Any]:
    """Return the query of ``list_predictions``: newest first, each row with its label."""
    p, f = predictions.c, feedback.c
    joined = predictions.outerjoin(feedback, (f.request_id == p.request_id) & (f.row == p.row))
    query = (
        select(predictions, f.name.label("fb_name"), f.label.label("fb_label"))
        .add_columns(f.at.label("fb_at"))
        .select_from(joined)
        .where(*_of_model(name, since, version))
        .order_by(p.at.desc(), p.request_id, p.row)
    )
    if with_feedback:
        query = query.where(f.at.is_not(None))
    return query if limit is None else query.limit(limit)


def listed(
    conn: Connection, query: Select[Any]
) -> list[tuple[PredictionRecord, FeedbackRecord | None]]:
    """Run a :func:`predictions_query`; return each prediction with its feedback or None."""
    out: list[tuple[PredictionRecord, FeedbackRecord | None]] = []
    for row in conn.execute(query):
        label = None
        if row.fb_at is not None:
            label = FeedbackRecord(row.request_id, row.row, row.fb_name, row.fb_label, row.fb_at)
        out.append((prediction_record(row), label))
    return out


def count(conn: Connection, name: str | None) -> int:
    """Return how many predictions are stored for ``name`` (None: all)."""
    query = select(func.count()).select_from(predictions)
    if name is not None:
        query = query.where(predictions.c.name == name)
    return int(conn.scalar(query) or 0)


def count_labelled(
    conn: Connection, name: str, *, since: datetime | None, version: int | None
) -> int:
    """Return how many predictions of ``name`` are stored with a label."""
    p, f = predictions.c, feedback.c
    labelled = predictions.join(feedback, (f.request_id == p.request_id) & (f.row == p.row))
    query = select(func.count()).select_from(labelled).where(*_of_model(name, since, version))
    return int(conn.scalar(query) or 0)
