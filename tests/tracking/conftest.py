"""Store fixtures: one fresh store per test, on every backend the machine can offer.

The SQL databases come from ``sql_url`` and ``postgres_url`` in ``tests/conftest.py``.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from loopml.tracking import BaseStore, InMemoryStore, SQLStore
from tests.conftest import SQL_BACKENDS, sqlite_url


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
