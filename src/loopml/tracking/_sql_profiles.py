"""Reference profiles in SQL: the statements behind :class:`SQLStore`'s profile methods.

Each function runs inside a transaction the store opened; the store owns connections,
locking and error translation. On PostgreSQL and SQLite the write is one
``INSERT ... ON CONFLICT DO NOTHING``, safe with any number of concurrent writers; other
databases get a portable read-then-write that assumes one writer per key at a time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from sqlalchemy import bindparam, insert, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.engine import Connection

from loopml.tracking._schema import profiles

__all__ = ["insert_profile", "stored_profile"]

_UPSERT_DIALECTS = ("postgresql", "sqlite")
_PROFILE = select(profiles.c.profile).where(profiles.c.sha256 == bindparam("sha256"))


def insert_profile(
    conn: Connection, sha256: str, profile: Mapping[str, Any], *, portable: bool = False
) -> None:
    """Insert the profile unless one is stored for ``sha256``: the first write wins.

    ``portable`` forces the read-then-write used on databases without ``ON CONFLICT``.
    """
    row = {"sha256": sha256, "profile": dict(profile)}
    dialect = conn.dialect.name
    if dialect in _UPSERT_DIALECTS and not portable:
        make = pg_insert if dialect == "postgresql" else sqlite_insert
        conn.execute(make(profiles).on_conflict_do_nothing(index_elements=["sha256"]), row)
        return
    if conn.execute(_PROFILE, {"sha256": sha256}).first() is None:
        conn.execute(insert(profiles), row)


def stored_profile(conn: Connection, sha256: str) -> Mapping[str, Any] | None:
    """Return the profile stored for ``sha256``, or None."""
    profile: Mapping[str, Any] | None = conn.scalar(_PROFILE, {"sha256": sha256})
    return profile
