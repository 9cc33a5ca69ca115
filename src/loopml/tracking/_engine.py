"""Engines for the SQL store: URL checks, SQLite settings, and database errors translated."""

from __future__ import annotations

import functools
import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any, ParamSpec, TypeVar

from sqlalchemy import create_engine, event, exc
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.pool import StaticPool

from loopml.errors import LoopmlError, StoreError

__all__ = [
    "URL_EXAMPLES",
    "WRITE",
    "is_sqlite_memory",
    "lost_race",
    "make_store_engine",
    "parse_url",
    "retried",
    "shown",
    "translated",
]

P = ParamSpec("P")
R = TypeVar("R")

URL_EXAMPLES = "sqlite:///path/to/loopml.db or postgresql+psycopg://user@host:5432/loopml"

# Execution option marking a connection whose next transaction will write. On SQLite it
# makes the transaction BEGIN IMMEDIATE (see _sqlite_begin).
WRITE = "loopml_write"

_BUSY_TIMEOUT_MS = 30_000
# A transaction that lost a race to another writer is run again this many times in all,
# waiting a random time below BACKOFF_S * 2**attempt (at most _BACKOFF_CAP_S) in between.
RACE_ATTEMPTS = 8
_BACKOFF_S = 0.02
_BACKOFF_CAP_S = 1.0
# PostgreSQL's serialization_failure and deadlock_detected: the transaction was rolled
# back because of another one, and may succeed when run again.
_PG_RACES = frozenset({"40001", "40P01"})


def parse_url(url: str) -> URL:
    """Return the parsed SQLAlchemy URL; a string that is not one raises StoreError."""
    try:
        return make_url(url)
    except exc.ArgumentError as error:
        raise StoreError(
            f"the tracking store URL must be a SQLAlchemy database URL, but got {url!r}. "
            f"Use for example {URL_EXAMPLES}"
        ) from error


def shown(url: URL) -> str:
    """Return the URL as it may appear in a message: password masked."""
    return url.render_as_string(hide_password=True)


def is_sqlite_memory(url: URL) -> bool:
    """Tell whether the URL names a private in-memory SQLite database."""
    database = url.database or ""
    return url.get_backend_name() == "sqlite" and (
        database in ("", ":memory:") or url.query.get("mode") == "memory"
    )


def make_store_engine(url: URL) -> Engine:
    """Return an engine for ``url``; SQLite gets WAL, foreign keys and a busy timeout."""
    kwargs: dict[str, Any] = {}
    sqlite = url.get_backend_name() == "sqlite"
    if sqlite and is_sqlite_memory(url):
        # Every connection to :memory: is a new empty database, so share one connection.
        kwargs.update(poolclass=StaticPool, connect_args={"check_same_thread": False})
    elif sqlite:
        _create_parent(url)
    else:
        # Long-lived processes (serving, UI) would otherwise fail once after a DB restart.
        kwargs["pool_pre_ping"] = True
    try:
        engine = create_engine(url, **kwargs)
    except (exc.ArgumentError, exc.NoSuchModuleError, ImportError) as error:
        raise StoreError(
            f"cannot open the tracking store at {shown(url)}: {error}. Check the dialect and "
            f"that its driver is installed (PostgreSQL: pip install 'loopml[postgres]' and "
            f"a postgresql+psycopg:// URL). Valid URLs look like {URL_EXAMPLES}"
        ) from error
    if sqlite:
        event.listen(engine, "connect", _sqlite_connect)
        event.listen(engine, "begin", _sqlite_begin)
    return engine


def _create_parent(url: URL) -> None:
    database = url.database or ""
    if database.startswith("file:"):  # a URI filename: SQLite resolves it, not us
        return
    try:
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise StoreError(
            f"cannot create the folder of the tracking store {shown(url)}: {error}. "
            "Choose a path loopml may write to"
        ) from error


def _sqlite_connect(dbapi_connection: Any, connection_record: Any) -> None:
    # Take BEGIN away from the sqlite3 module (it would skip it before SELECT and DDL);
    # _sqlite_begin emits it instead, so transactions mean what they say.
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute(f"PRAGMA busy_timeout = {_BUSY_TIMEOUT_MS}")
        cursor.execute("PRAGMA foreign_keys = ON")
        # WAL lets readers go on while one process writes; NORMAL sync is safe with WAL.
        cursor.execute("PRAGMA journal_mode = WAL")
        cursor.execute("PRAGMA synchronous = NORMAL")
    finally:
        cursor.close()


def _sqlite_begin(conn: Connection) -> None:
    # A deferred transaction that reads and then writes gets SQLITE_BUSY without waiting
    # when another writer committed meanwhile; writers take the lock up front instead.
    statement = "BEGIN IMMEDIATE" if conn.get_execution_options().get(WRITE) else "BEGIN"
    # Straight to the driver: exec_driver_sql would cost as much as the statement itself.
    driver: Any = conn.connection.driver_connection
    try:
        driver.execute(statement)
    except sqlite3.Error as error:
        # SQLAlchemy does not wrap errors raised in events; wrap it as it would have.
        raise exc.DBAPIError.instance(statement, None, error, sqlite3.Error) from error


def lost_race(error: BaseException | None) -> bool:
    """Tell whether a database error means another writer won, so a retry may succeed.

    SQLite: busy (``database is locked``), which it also reports without waiting where
    waiting could deadlock. PostgreSQL: a serialization failure or a deadlock. Either
    way the transaction was rolled back, so running it again is safe.
    """
    orig = getattr(error, "orig", None)
    if isinstance(orig, sqlite3.OperationalError):
        return orig.sqlite_errorcode & 0xFF == sqlite3.SQLITE_BUSY
    return getattr(orig, "sqlstate", None) in _PG_RACES


def retried(method: Callable[P, R]) -> Callable[P, R]:
    """Wrap a store method to run again, after a random backoff, when it lost a race.

    The method must be one transaction (or stop at the first that commits): a lost race
    rolled it back, so nothing is written twice. A StoreError chained to anything but a
    lost race, or the last one after ``RACE_ATTEMPTS``, is raised as it is.
    """

    @functools.wraps(method)
    def run_until_won(*args: P.args, **kwargs: P.kwargs) -> R:
        attempt = 0
        while True:
            try:
                return method(*args, **kwargs)
            except StoreError as error:
                attempt += 1
                if attempt >= RACE_ATTEMPTS or not lost_race(error.__cause__):
                    raise
            # Random, so the losers of one race do not all collide again.
            time.sleep(random.uniform(0, min(_BACKOFF_CAP_S, _BACKOFF_S * 2**attempt)))

    return run_until_won


@contextmanager
def translated(url: URL, action: str) -> Iterator[None]:
    """Turn any SQLAlchemy error raised inside into a StoreError naming the store."""
    try:
        yield
    except exc.SQLAlchemyError as error:
        orig = getattr(error, "orig", None)
        if isinstance(orig, LoopmlError):  # ours, raised while SQLAlchemy bound a value
            raise orig from orig.__cause__
        raise StoreError(
            f"the tracking store at {shown(url)} could not {action}: {_cause(error)}. "
            f"{_hint(error)}"
        ) from error


def _hint(error: exc.SQLAlchemyError) -> str:
    if isinstance(error, exc.IntegrityError):
        return "A record with that id already exists or one it refers to is missing"
    if isinstance(error, exc.OperationalError | exc.InterfaceError):
        return "Check that the database is reachable at that URL and that loopml may write to it"
    if isinstance(error, exc.DBAPIError):
        return "Check that the URL points at a loopml tracking database"
    return "See the chained error for details"


def _cause(error: exc.SQLAlchemyError) -> str:
    cause = error.orig if isinstance(error, exc.DBAPIError) else error
    lines = str(cause).strip().splitlines()
    return lines[0] if lines else type(cause).__name__
