"""Bring a database's schema to the newest migration, safely when processes race to it."""

from __future__ import annotations

import time

from sqlalchemy import inspect, text
from sqlalchemy.engine import Engine

from loopml.errors import StoreError
from loopml.tracking._engine import WRITE, lost_race, shown, translated
from loopml.tracking.migrations import HEAD

__all__ = ["SCRIPT_LOCATION", "current_revision", "upgrade_to_head"]

SCRIPT_LOCATION = "loopml.tracking:migrations"
_VERSION_TABLE = "alembic_version"
# One PostgreSQL advisory lock key for every loopml migration ("loopml" in ASCII).
_LOCK_KEY = 0x6C6F6F706D6C
_OPEN_PATIENCE_S = 30.0


def current_revision(engine: Engine) -> str | None:
    """Return the schema revision the database is at, or None for an empty database."""
    with translated(engine.url, "read its schema revision on open"), engine.connect() as conn:
        if not inspect(conn).has_table(_VERSION_TABLE):
            return None
        revision = conn.execute(text(f"SELECT version_num FROM {_VERSION_TABLE}")).scalar()
        return None if revision is None else str(revision)


def upgrade_to_head(engine: Engine) -> None:
    """Upgrade the schema to ``HEAD``; do nothing, cheaply, when it is there already."""
    deadline = time.monotonic() + _OPEN_PATIENCE_S
    while True:
        try:
            if current_revision(engine) != HEAD:
                _upgrade(engine)
            return
        except StoreError as error:
            # Processes opening a new SQLite file together can get "database is locked"
            # at once: SQLite skips its busy wait where waiting could deadlock. Opening
            # is safe to repeat, so wait and try again.
            if not lost_race(error.__cause__) or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def _upgrade(engine: Engine) -> None:
    # Imported here: Alembic costs ~0.2 s to import, which an up-to-date database skips.
    from alembic import command
    from alembic.config import Config
    from alembic.util import CommandError

    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    with translated(engine.url, "upgrade its schema"), engine.connect() as conn:
        conn.execution_options(**{WRITE: True})
        # Whoever gets the lock first migrates; the others wait, then find the schema at
        # head inside their own transaction and do nothing. SQLite's BEGIN IMMEDIATE
        # (WRITE above) is that lock there.
        with conn.begin():
            if conn.dialect.name == "postgresql":
                conn.execute(text("SELECT pg_advisory_xact_lock(:key)"), {"key": _LOCK_KEY})
            config.attributes["connection"] = conn
            try:
                command.upgrade(config, "head")
            except CommandError as error:
                raise StoreError(
                    f"cannot migrate the tracking store at {shown(engine.url)}: {error}. "
                    "It was probably written by a newer loopml; upgrade loopml"
                ) from error
