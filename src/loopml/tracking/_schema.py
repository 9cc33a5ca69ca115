"""The SQL tables of the tracking store, as SQLAlchemy Core.

The schema is created and changed only by the Alembic migrations in
:mod:`loopml.tracking.migrations`; these tables describe it for queries, and a test checks
that the two agree.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Column,
    DateTime,
    Double,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    false,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.types import TypeDecorator

from loopml.errors import StoreError

__all__ = [
    "FloatMap",
    "JSONData",
    "UTCDateTime",
    "alias_events",
    "aliases",
    "artifacts",
    "cells",
    "feedback",
    "metadata",
    "model_events",
    "model_versions",
    "predictions",
    "profiles",
    "runs",
    "trials",
]

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "fk": "fk_%(table_name)s_%(column_0_N_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as UTC and always read back timezone-aware UTC."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = value.astimezone(UTC)
        # SQLite has no timezone type; store naive UTC text so it sorts correctly.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:  # SQLite returns the naive UTC it was given
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class JSONData(TypeDecorator[Any]):
    """A JSON document that keeps NaN and infinities, and refuses what JSON cannot hold.

    PostgreSQL's ``json`` rejects the ``NaN`` token, yet a parameter can well be NaN
    (``SimpleImputer(missing_values=nan)``), so non-finite floats travel as
    ``{"$float": "nan"}``. A value JSON cannot hold raises StoreError, the same on every
    backend, before the driver sees it.
    """

    impl = JSON
    cache_ok = True

    def __init__(self, what: str) -> None:
        super().__init__()
        self.what = what

    def process_bind_param(self, value: Any, dialect: Dialect) -> Any:
        if value is None:
            return None
        encoded = _encode(value)
        try:
            json.dumps(encoded, allow_nan=False)
        except (TypeError, ValueError) as error:
            raise StoreError(
                f"{self.what} must be JSON serializable: {error}; nothing was written"
            ) from error
        return encoded

    def process_result_value(self, value: Any, dialect: Dialect) -> Any:
        return None if value is None else _decode(value)


def _encode(value: Any) -> Any:
    if isinstance(value, float) and not math.isfinite(value):
        return {_FLOAT_TAG: str(value)}
    if isinstance(value, Mapping):
        return {key: _encode(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_encode(item) for item in value]
    return value


def _decode(value: Any) -> Any:
    if isinstance(value, dict):
        if len(value) == 1 and _FLOAT_TAG in value:
            return float(value[_FLOAT_TAG])
        return {key: _decode(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_decode(item) for item in value]
    return value


class FloatMap(TypeDecorator[Mapping[str, float]]):
    """A ``{name: float}`` JSON object that keeps NaN and infinities.

    PostgreSQL's ``json`` rejects the ``NaN`` token, and a metric can well be NaN (an R²
    on a constant target), so non-finite values travel as the strings ``"nan"``/``"inf"``.
    """

    impl = JSON
    cache_ok = True

    def process_bind_param(
        self, value: Mapping[str, float] | None, dialect: Dialect
    ) -> dict[str, Any] | None:
        if value is None:
            return None
        out: dict[str, Any] = {}
        for key, number in value.items():
            number = float(number)  # numpy scalars are not JSON serializable
            out[key] = number if math.isfinite(number) else str(number)
        return out

    def process_result_value(self, value: Any, dialect: Dialect) -> Mapping[str, float] | None:
        if value is None:
            return None
        return {key: float(number) for key, number in value.items()}


metadata = MetaData(naming_convention=NAMING)

_FLOAT_TAG = "$float"
_ID = String(255)
_SHA = String(64)

runs = Table(
    "runs",
    metadata,
    Column("run_id", _ID, primary_key=True),
    Column("pipeline", _ID, nullable=False),
    Column("state", String(16), nullable=False),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("workers", Integer, nullable=False),
    Column("n_cells", Integer, nullable=False),
    Column("n_failed", Integer, nullable=False),
    Column("lineage", JSONData("a run's lineage"), nullable=False),
    Column("host", _ID, nullable=True),
    Column("pid", Integer, nullable=True),
    Column("heartbeat_at", UTCDateTime(), nullable=True),
    Column("estimate", JSONData("a run's estimate"), nullable=True),
    Index(None, "started_at"),
    Index(None, "pipeline", "started_at"),
)

cells = Table(
    "cells",
    metadata,
    # A surrogate key gives a stable tie-break for "the order they finished".
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("cell_id", _ID, nullable=False, unique=True),
    Column("run_id", _ID, ForeignKey("runs.run_id"), nullable=False),
    Column("pipeline", _ID, nullable=False),
    Column("dataset", _ID, nullable=False),
    Column("model", _ID, nullable=False),
    Column("state", String(16), nullable=False),
    Column("estimator", Text, nullable=False),
    Column("params", JSONData("a cell's params"), nullable=False),
    Column("dataset_fingerprint", _ID, nullable=False),
    Column("metrics", FloatMap, nullable=False),
    Column("fit_seconds", Double, nullable=True),
    Column("predict_seconds", Double, nullable=True),
    Column("artifact_sha256", _SHA, nullable=True),
    Column("error", Text, nullable=True),
    Column("finished_at", UTCDateTime(), nullable=True),
    Column("key", _SHA, nullable=True),
    Column("trial_id", _ID, nullable=True),
    Column("n_trials", Integer, nullable=False, server_default=text("1")),
    Column("cached", Boolean, nullable=False, server_default=false()),
    Index(None, "run_id"),
    Index(None, "pipeline", "dataset"),
    Index(None, "dataset"),
    Index(None, "key"),
)

trials = Table(
    "trials",
    metadata,
    # A surrogate key gives a stable tie-break for trials started at the same instant.
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("trial_id", _ID, nullable=False, unique=True),
    Column("run_id", _ID, ForeignKey("runs.run_id"), nullable=False),
    Column("pipeline", _ID, nullable=False),
    Column("dataset", _ID, nullable=False),
    Column("model", _ID, nullable=False),
    Column("study_key", _SHA, nullable=False),
    Column("key", _SHA, nullable=False),
    Column("number", Integer, nullable=False),
    Column("state", String(16), nullable=False),
    Column("params", JSONData("a trial's params"), nullable=False),
    Column("rows", BigInteger, nullable=False),
    Column("features", Integer, nullable=False),
    Column("rungs", JSONData("a trial's rungs"), nullable=False),
    Column("metrics", FloatMap, nullable=False),
    Column("fit_seconds", Double, nullable=True),
    Column("predict_seconds", Double, nullable=True),
    Column("artifact_sha256", _SHA, nullable=True),
    Column("error", Text, nullable=True),
    Column("started_at", UTCDateTime(), nullable=False),
    Column("finished_at", UTCDateTime(), nullable=True),
    Index(None, "run_id"),
    Index(None, "study_key"),
    Index(None, "key"),
)

artifacts = Table(
    "artifacts",
    metadata,
    Column("sha256", _SHA, primary_key=True),
    Column("uri", Text, nullable=False),
    Column("size_bytes", BigInteger, nullable=False),
    Column("input_schema", JSONData("an artifact's input_schema"), nullable=False),
    Column("sample_rows", JSONData("an artifact's sample_rows"), nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
)

model_versions = Table(
    "model_versions",
    metadata,
    Column("name", _ID, nullable=False),
    Column("version", Integer, nullable=False, autoincrement=False),
    Column("cell_id", _ID, ForeignKey("cells.cell_id"), nullable=False),
    Column("run_id", _ID, ForeignKey("runs.run_id"), nullable=False),
    Column("artifact_sha256", _SHA, ForeignKey("artifacts.sha256"), nullable=False),
    Column("metrics", FloatMap, nullable=False),
    Column("created_at", UTCDateTime(), nullable=False),
    # The key is UNIQUE(name, version): two concurrent registrations cannot share a number.
    PrimaryKeyConstraint("name", "version"),
)

aliases = Table(
    "aliases",
    metadata,
    Column("name", _ID, nullable=False),
    Column("alias", _ID, nullable=False),
    Column("version", Integer, nullable=False),
    Column("updated_at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("name", "alias"),
    # An alias can never point at a version that does not exist.
    ForeignKeyConstraint(["name", "version"], ["model_versions.name", "model_versions.version"]),
)

alias_events = Table(
    "alias_events",
    metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column("name", _ID, nullable=False),
    Column("alias", _ID, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("from_version", Integer, nullable=True),
    Column("to_version", Integer, nullable=False),
    Column("actor", _ID, nullable=False),
    Column("reason", Text, nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    ForeignKeyConstraint(["name", "to_version"], ["model_versions.name", "model_versions.version"]),
    Index(None, "name", "alias"),
)

predictions = Table(
    "predictions",
    metadata,
    Column("request_id", _ID, nullable=False),
    Column("row", Integer, nullable=False, autoincrement=False),
    Column("name", _ID, nullable=False),
    Column("version", Integer, nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("features", JSONData("a prediction's features"), nullable=False),
    Column("prediction", JSONData("a prediction"), nullable=True),
    Column("probabilities", FloatMap, nullable=True),
    Column("latency_ms", Double, nullable=False),
    # The key makes writes idempotent: a replayed row is skipped, never duplicated.
    PrimaryKeyConstraint("request_id", "row"),
    Index(None, "name", "at"),
    Index(None, "name", "version", "at"),
)

# No foreign key to ``predictions``: a label may arrive before its prediction is written.
feedback = Table(
    "feedback",
    metadata,
    Column("request_id", _ID, nullable=False),
    Column("row", Integer, nullable=False, autoincrement=False),
    Column("name", _ID, nullable=False),
    Column("label", JSONData("a feedback label"), nullable=True),
    Column("at", UTCDateTime(), nullable=False),
    PrimaryKeyConstraint("request_id", "row"),
)

# No foreign key to ``model_versions``: an event may be about a model, not one version.
model_events = Table(
    "model_events",
    metadata,
    Column("event_id", Integer, primary_key=True, autoincrement=True),
    Column("name", _ID, nullable=False),
    Column("kind", String(32), nullable=False),
    Column("at", UTCDateTime(), nullable=False),
    Column("actor", _ID, nullable=False),
    Column("reason", Text, nullable=False),
    Column("version", Integer, nullable=True),
    Column("data", JSONData("a model event's data"), nullable=False),
    Index(None, "name", "at"),
    Index(None, "name", "kind", "at"),
)

# No foreign key to ``artifacts``: training may profile its data before saving the model.
# JSON is text up to 1 GB on both SQLite and PostgreSQL, ample for a few MB.
profiles = Table(
    "profiles",
    metadata,
    Column("sha256", _SHA, primary_key=True),
    Column("profile", JSONData("a reference profile"), nullable=False),
)
