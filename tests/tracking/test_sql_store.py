"""What only the SQL store has: SQLite settings, migrations, reopening, translated errors."""

from __future__ import annotations

import dataclasses
import multiprocessing
import sqlite3
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Engine, exc, text

from loopml.errors import StoreError
from loopml.tracking import InMemoryStore, SQLStore, _sql_predictions, _sql_profiles, get_store
from loopml.tracking._engine import make_store_engine, parse_url, retried, translated
from loopml.tracking._migrate import SCRIPT_LOCATION, current_revision
from loopml.tracking._schema import metadata
from loopml.tracking.migrations import HEAD
from loopml.tracking.testing import (
    check_champion_chain,
    make_artifact,
    make_cell,
    make_feedback,
    make_prediction,
    make_run,
    register_champion,
)
from loopml.tracking.testing._builders import run_threads
from tests.conftest import sqlite_url

_PROCESSES = 6
# Champion registrations at once: threads spread over processes.
_REGISTRARS, _REGISTERING_PROCESSES = 32, 4


@pytest.fixture
def engine(sql_url: str) -> Iterator[Engine]:
    """Yield a raw engine on the store's database, configured as the store configures it."""
    SQLStore(sql_url).close()
    engine = make_store_engine(parse_url(sql_url))
    yield engine
    engine.dispose()


def test_sqlite_file_uses_wal_foreign_keys_and_a_busy_timeout(tmp_path: Path) -> None:
    url = sqlite_url(tmp_path)
    with SQLStore(url):
        pass
    database = tmp_path / "store" / "loopml.db"
    assert database.is_file()  # and its folder was created
    with sqlite3.connect(database) as raw:
        assert raw.execute("PRAGMA journal_mode").fetchone() == ("wal",)
    raw.close()
    engine = make_store_engine(parse_url(url))
    try:
        with engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
            assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() == 30_000
    finally:
        engine.dispose()


def test_head_names_the_newest_migration() -> None:
    config = Config()
    config.set_main_option("script_location", SCRIPT_LOCATION)
    assert ScriptDirectory.from_config(config).get_heads() == [HEAD]


def test_migrations_reach_head_and_match_the_tables(engine: Engine) -> None:
    assert current_revision(engine) == HEAD
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_reopening_keeps_data_and_skips_alembic(
    sql_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    run = make_run()
    with SQLStore(sql_url) as store:
        store.create_run(run)

    def refuse(*args: Any, **kwargs: Any) -> None:
        raise AssertionError("alembic ran on a database already at head")

    monkeypatch.setattr("alembic.command.upgrade", refuse)
    with SQLStore(sql_url) as store:
        assert store.get_run(run.run_id) == run


def test_database_errors_name_the_store_and_chain_the_cause(engine: Engine, sql_url: str) -> None:
    store = SQLStore(sql_url)
    with store:
        with engine.begin() as conn:
            conn.execute(text("DROP TABLE alias_events"))
        with pytest.raises(StoreError, match="list alias events") as raised:
            store.list_events("shop.eu")
    assert store.url in str(raised.value)
    assert isinstance(raised.value.__cause__, exc.SQLAlchemyError)


def test_a_locked_database_is_a_store_error_after_the_busy_timeout_and_retries(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("loopml.tracking._engine._BUSY_TIMEOUT_MS", 50)
    monkeypatch.setattr("loopml.tracking._engine.RACE_ATTEMPTS", 2)
    url = sqlite_url(tmp_path)
    store = SQLStore(url)
    with store, sqlite3.connect(tmp_path / "store" / "loopml.db", isolation_level=None) as other:
        other.execute("BEGIN IMMEDIATE")  # another process is writing, and takes its time
        with pytest.raises(StoreError, match=r"could not create run .*database is locked"):
            store.create_run(make_run())
        other.execute("ROLLBACK")
        store.create_run(make_run())
    other.close()


def test_a_write_that_finds_the_database_locked_runs_again_until_it_gets_in(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Each try gives up after 50 ms; the lock is held longer, so only a retry succeeds.
    monkeypatch.setattr("loopml.tracking._engine._BUSY_TIMEOUT_MS", 50)
    url = sqlite_url(tmp_path)
    with SQLStore(url) as store:
        other = sqlite3.connect(
            tmp_path / "store" / "loopml.db", isolation_level=None, check_same_thread=False
        )
        other.execute("BEGIN IMMEDIATE")
        release = threading.Timer(0.3, other.execute, args=("ROLLBACK",))
        release.start()
        try:
            store.create_run(make_run("waited"))
        finally:
            release.join()
            other.close()
        assert [r.run_id for r in store.list_runs()] == ["waited"]


class _Refused(Exception):
    """What a PostgreSQL driver raises, reduced to the SQLSTATE the store reads."""

    def __init__(self, sqlstate: str) -> None:
        super().__init__(f"SQLSTATE {sqlstate}")
        self.sqlstate = sqlstate


@pytest.mark.parametrize(
    ("sqlstate", "calls"),
    [("40001", 3), ("40P01", 3), ("23505", 1)],
    ids=["serialization-failure", "deadlock", "unique-violation"],
)
def test_postgres_lost_races_are_retried_and_other_errors_are_not(
    sqlstate: str, calls: int
) -> None:
    made: list[int] = []

    @retried
    def write() -> str:
        made.append(1)
        if len(made) < 3:
            with translated(parse_url("postgresql+psycopg://u@h/db"), "write"):
                raise exc.OperationalError("UPDATE", {}, _Refused(sqlstate))
        return "written"

    if calls == 1:
        with pytest.raises(StoreError, match=f"could not write: SQLSTATE {sqlstate}"):
            write()
    else:
        assert write() == "written"
    assert len(made) == calls


def test_unreachable_server_is_a_store_error_with_the_password_masked() -> None:
    url = "postgresql+psycopg://loopml:s3cret@127.0.0.1:1/loopml?connect_timeout=2"
    with pytest.raises(StoreError, match=r"loopml:\*\*\*@127\.0\.0\.1:1/loopml.*reachable") as e:
        SQLStore(url)
    assert "s3cret" not in str(e.value)
    assert isinstance(e.value.__cause__, exc.OperationalError)


def test_a_file_that_is_not_a_database_is_a_store_error(tmp_path: Path) -> None:
    (tmp_path / "store").mkdir()
    (tmp_path / "store" / "loopml.db").write_bytes(b"not a database, just bytes" * 100)
    with pytest.raises(
        StoreError, match=r"loopml\.db could not .*: file is not a database. Check that the URL"
    ):
        SQLStore(sqlite_url(tmp_path))


def test_a_database_from_a_newer_loopml_is_refused(engine: Engine, sql_url: str) -> None:
    with engine.begin() as conn:
        conn.execute(text("UPDATE alembic_version SET version_num = '9999'"))
    with pytest.raises(StoreError, match="newer loopml; upgrade loopml"):
        SQLStore(sql_url)


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("not a url", r"SQLAlchemy database URL, but got 'not a url'. Use for example sqlite://"),
        ("nosuchdb://x/y", r"nosuchdb://x/y.*Check the dialect"),
        ("mysql://u:pw@host/db", r"mysql://u:\*\*\*@host/db.*driver is installed"),
        ("sqlite:////proc/no/such/folder/loopml.db", r"cannot create the folder"),
    ],
)
def test_bad_urls_are_store_errors_with_an_example(url: str, message: str) -> None:
    with pytest.raises(StoreError, match=message):
        get_store(url)


def test_get_store_chooses_by_what_it_is_given(tmp_path: Path) -> None:
    memory = InMemoryStore()
    assert get_store(memory) is memory
    assert isinstance(get_store("memory://"), InMemoryStore)
    with get_store(None, default_path=tmp_path / "a" / "loopml.db") as store:
        assert isinstance(store, SQLStore)
        assert store.url == f"sqlite:///{tmp_path / 'a' / 'loopml.db'}"
    with get_store(sqlite_url(tmp_path)) as store:
        assert isinstance(store, SQLStore)
    with pytest.raises(StoreError, match="no default path"):
        get_store(None)
    with pytest.raises(StoreError, match="URL is empty"):
        get_store(" ")


def _at_once(work: Callable[[str, int], Any], url: str, processes: int) -> list[Any]:
    """Return what ``work(url, index)`` gave in each of ``processes`` processes run at once.

    Spawned, as on macOS and Windows: a fresh interpreter each, nothing inherited. A
    barrier lets them all through once every interpreter has started. A process that
    raised gives the error's type and message.
    """
    context: Any = multiprocessing.get_context("spawn")
    start, results = context.Barrier(processes, timeout=120), context.Queue()
    started = [
        context.Process(target=_report, args=(work, url, index, start, results))
        for index in range(processes)
    ]
    for process in started:
        process.start()
    outcomes = [results.get(timeout=120) for _ in started]
    for process in started:
        process.join(timeout=60)
    results.close()
    results.join_thread()
    return outcomes


def _report(work: Callable[[str, int], Any], url: str, index: int, start: Any, out: Any) -> None:
    start.wait()
    try:
        out.put(work(url, index))
    except Exception as error:  # reported by the parent
        out.put(f"{type(error).__name__}: {error}")


def _open_and_write(url: str, index: int) -> str:
    with SQLStore(url) as store:
        store.create_run(make_run(f"process-{index}"))
    return "ok"


@pytest.mark.slow  # spawned interpreters import loopml: seconds
def test_processes_opening_a_new_database_at_once_all_succeed(sql_url: str) -> None:
    assert _at_once(_open_and_write, sql_url, _PROCESSES) == ["ok"] * _PROCESSES
    engine = make_store_engine(parse_url(sql_url))
    try:
        with engine.connect() as conn:
            assert conn.execute(text("SELECT version_num FROM alembic_version")).all() == [(HEAD,)]
            assert compare_metadata(MigrationContext.configure(conn), metadata) == []
    finally:
        engine.dispose()
    with SQLStore(sql_url) as store:
        assert len(store.list_runs()) == _PROCESSES


def _register_from_threads(url: str, index: int) -> list[int]:
    numbers: list[int] = []
    with SQLStore(url) as store:
        cell = store.list_cells()[0]

        def one(thread: int) -> None:
            actor = f"p{index}t{thread}"
            numbers.append(register_champion(store, cell.cell_id, actor=actor))

        run_threads(one, _REGISTRARS // _REGISTERING_PROCESSES)
    return numbers


@pytest.mark.slow  # spawned interpreters import loopml: seconds
def test_champion_registrations_from_processes_and_threads_number_every_version_once(
    sql_url: str,
) -> None:
    with SQLStore(sql_url) as store:
        run = make_run()
        store.create_run(run)
        store.add_cells([make_cell(run)])
        store.add_artifacts([make_artifact()])
    outcomes = _at_once(_register_from_threads, sql_url, _REGISTERING_PROCESSES)
    assert [o for o in outcomes if not isinstance(o, list)] == []
    assert sorted(n for numbers in outcomes for n in numbers) == list(range(1, _REGISTRARS + 1))
    with SQLStore(sql_url) as store:
        check_champion_chain(store, "shop.eu", _REGISTRARS)


def test_the_portable_prediction_writes_match_the_upserts(engine: Engine) -> None:
    # Databases without INSERT ... ON CONFLICT get a read-then-write; run it on this one.
    first = make_prediction("req-1", 0)
    with engine.begin() as conn:
        _sql_predictions.insert_predictions(conn, [first], portable=True)
        changed = dataclasses.replace(first, prediction="no")
        _sql_predictions.insert_predictions(
            conn, [changed, make_prediction("req-1", 1)], portable=True
        )
        _sql_predictions.upsert_feedback(conn, [make_feedback(label="a", second=60)], portable=True)
        for label, second in (("b", 120), ("stale", 90)):
            upsert = [make_feedback(label=label, second=second)]
            _sql_predictions.upsert_feedback(conn, upsert, portable=True)
        query = _sql_predictions.predictions_query(
            "shop.eu", since=None, limit=None, with_feedback=False
        )
        listed = _sql_predictions.listed(conn, query)
    assert listed == [
        (first, make_feedback(label="b", second=120)),
        (make_prediction("req-1", 1), None),
    ]


def test_the_portable_profile_write_matches_the_upsert(engine: Engine) -> None:
    # Databases without INSERT ... ON CONFLICT get a read-then-write; run it on this one.
    with engine.begin() as conn:
        _sql_profiles.insert_profile(conn, "a" * 64, {"rows": 10}, portable=True)
        _sql_profiles.insert_profile(conn, "a" * 64, {"rows": 99}, portable=True)
        assert _sql_profiles.stored_profile(conn, "a" * 64) == {"rows": 10}
        assert _sql_profiles.stored_profile(conn, "b" * 64) is None
