"""Shared fixtures: a small project on disk (spec + CSV), fast to run end to end, and SQL
databases for the tracking store.

PostgreSQL runs when ``LOOPML_TEST_POSTGRES_URL`` is set, e.g.
``postgresql+psycopg://postgres@127.0.0.1:5432/test``; each test then gets a schema of its
own, dropped afterwards. If the variable is set but the server is unreachable, the tests
fail rather than skip.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import yaml
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.pool import NullPool

import loopml
from loopml.artifacts import ArtifactStore
from loopml.cli import churn_frame
from loopml.registry import Registry
from loopml.tracking import InMemoryStore


def base_spec() -> dict[str, Any]:
    return {
        "name": "shop",
        "datasets": {
            "eu": {"path": "data/eu.csv", "target": "churned", "drop": ["customer_id"]},
            "us": {"path": "data/us.csv", "target": "churned", "drop": ["customer_id"]},
        },
        "split": {"holdout": 0.25, "seed": 0},
        "models": {
            "logreg": {
                "estimator": "sklearn.linear_model.LogisticRegression",
                "params": {"max_iter": 500},
            },
            "tree": {
                "estimator": "sklearn.tree.DecisionTreeClassifier",
                "params": {"max_depth": 3},
            },
        },
        "metrics": {"primary": "accuracy", "extra": ["f1"]},
    }


ProjectFactory = Callable[..., Path]


@pytest.fixture
def make_project(tmp_path: Path) -> ProjectFactory:
    """Return a function writing a project (spec dict or raw YAML, plus CSVs) into tmp_path."""

    def make(spec: dict[str, Any] | str | None = None, *, rows: int = 200) -> Path:
        root = tmp_path / "proj"
        (root / "data").mkdir(parents=True, exist_ok=True)
        churn_frame(rows, seed=1).to_csv(root / "data" / "eu.csv", index=False)
        churn_frame(rows, seed=2, shift=0.5).to_csv(root / "data" / "us.csv", index=False)
        text = (
            spec
            if isinstance(spec, str)
            else yaml.safe_dump(spec if spec is not None else base_spec(), sort_keys=False)
        )
        (root / "loopml.yaml").write_text(text)
        return root

    return make


@pytest.fixture
def project(make_project: ProjectFactory) -> Path:
    return make_project()


@pytest.fixture
def registry(make_project: ProjectFactory) -> Registry:
    """A registry where shop.eu has versions 1 (first run) and 2 (a run on new data)."""
    spec_dict = base_spec()
    spec_dict["datasets"].pop("us")
    root = make_project(spec_dict)
    spec = loopml.load_spec(root / "loopml.yaml")
    store = InMemoryStore()
    loopml.run(spec, workers=1, store=store)
    churn_frame(220, seed=9).to_csv(root / "data" / "eu.csv", index=False)
    loopml.run(loopml.load_spec(root / "loopml.yaml"), workers=1, store=store)
    return Registry(store, ArtifactStore(spec.artifacts_dir))


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
