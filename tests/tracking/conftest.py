"""Store fixtures: one fresh store per test, on every backend the machine can offer.

PostgreSQL runs when ``LOOPML_TEST_POSTGRES_URL`` is set, e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/test``; each test then gets a schema of its
own, dropped afterwards. If the variable is set but the server is unreachable, the tests
fail rather than skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

from loopml.tracking import BaseStore, InMemoryStore, SQLStore

POSTGRES_ENV = "LOOPML_TEST_POSTGRES_URL"
_POSTGRES_URL = os.environ.get(POSTGRES_ENV, "")
_needs_postgres = pytest.mark.skipif(not _POSTGRES_URL, reason=f"{POSTGRES_ENV} is not set")

SQL_BACKENDS = [pytest.param("sqlite"), pytest.param("postgres", marks=_needs_postgres)]


@pytest.fixture
def postgres_url() -> Iterator[str]:
    """Yield a URL whose connections work in a new, empty schema of the test database."""
    schema = f"loopml_test_{uuid.uuid4().hex[:12]}"
    admin = create_engine(_POSTGRES_URL, poolclass=NullPool)
    try:
        with admin.begin() as conn:
            conn.execute(text(f'CREATE SCHEMA "{schema}"'))
        url = make_url(_POSTGRES_URL).update_query_dict({"options": f"-csearch_path={schema}"})
        yield url.render_as_string(hide_password=False)
        with admin.begin() as conn:
            conn.execute(text(f'DROP SCHEMA "{schema}" CASCADE'))
    finally:
        admin.dispose()


def sqlite_url(folder: Path) -> str:
    """Return the URL of a SQLite file in a folder that does not exist yet."""
    return f"sqlite:///{folder / 'store' / 'loopml.db'}"


@pytest.fixture(params=SQL_BACKENDS)
def sql_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Return the URL of a new, empty SQL database, on each SQL backend."""
    if request.param == "postgres":
        url: str = request.getfixturevalue("postgres_url")
        return url
    return sqlite_url(tmp_path)


@pytest.fixture(params=["memory", "sqlite-memory", *SQL_BACKENDS])
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[BaseStore]:
    """Yield a fresh, empty store on each backend, closed afterwards."""
    if request.param == "memory":
        yield InMemoryStore()
        return
    if request.param == "postgres":
        url: str = request.getfixturevalue("postgres_url")
    else:
        url = "sqlite://" if request.param == "sqlite-memory" else sqlite_url(tmp_path)
    with SQLStore(url) as opened:
        yield opened
