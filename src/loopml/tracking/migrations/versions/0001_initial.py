"""Initial schema: runs, cells, artifacts, model versions, aliases and alias events.

Revision ID: 0001
Revises:
Create Date: 2024-11-26

The tables are spelled out here rather than imported from ``_schema`` so this revision
keeps meaning what it meant when later revisions change the live tables.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0001"
down_revision: str | Sequence[str] | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.String(255)
_SHA = sa.String(64)


def _ts(name: str, *, nullable: bool = False) -> sa.Column[datetime]:
    return sa.Column(name, sa.DateTime(timezone=True), nullable=nullable)


def upgrade() -> None:
    op.create_table(
        "runs",
        sa.Column("run_id", _ID, nullable=False),
        sa.Column("pipeline", _ID, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        _ts("started_at"),
        _ts("finished_at", nullable=True),
        sa.Column("workers", sa.Integer(), nullable=False),
        sa.Column("n_cells", sa.Integer(), nullable=False),
        sa.Column("n_failed", sa.Integer(), nullable=False),
        sa.Column("lineage", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("run_id", name="pk_runs"),
    )
    op.create_index("ix_runs_started_at", "runs", ["started_at"])
    op.create_index("ix_runs_pipeline_started_at", "runs", ["pipeline", "started_at"])

    op.create_table(
        "cells",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("cell_id", _ID, nullable=False),
        sa.Column("run_id", _ID, nullable=False),
        sa.Column("pipeline", _ID, nullable=False),
        sa.Column("dataset", _ID, nullable=False),
        sa.Column("model", _ID, nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("estimator", sa.Text(), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("dataset_fingerprint", _ID, nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("fit_seconds", sa.Double(), nullable=True),
        sa.Column("predict_seconds", sa.Double(), nullable=True),
        sa.Column("artifact_sha256", _SHA, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        _ts("finished_at", nullable=True),
        sa.Column("key", _SHA, nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_cells"),
        sa.UniqueConstraint("cell_id", name="uq_cells_cell_id"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_cells_run_id_runs"),
    )
    op.create_index("ix_cells_run_id", "cells", ["run_id"])
    op.create_index("ix_cells_pipeline_dataset", "cells", ["pipeline", "dataset"])
    op.create_index("ix_cells_dataset", "cells", ["dataset"])
    op.create_index("ix_cells_key", "cells", ["key"])

    op.create_table(
        "artifacts",
        sa.Column("sha256", _SHA, nullable=False),
        sa.Column("uri", sa.Text(), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("input_schema", sa.JSON(), nullable=False),
        sa.Column("sample_rows", sa.JSON(), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("sha256", name="pk_artifacts"),
    )

    op.create_table(
        "model_versions",
        sa.Column("name", _ID, nullable=False),
        sa.Column("version", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("cell_id", _ID, nullable=False),
        sa.Column("run_id", _ID, nullable=False),
        sa.Column("artifact_sha256", _SHA, nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        _ts("created_at"),
        sa.PrimaryKeyConstraint("name", "version", name="pk_model_versions"),
        sa.ForeignKeyConstraint(
            ["cell_id"], ["cells.cell_id"], name="fk_model_versions_cell_id_cells"
        ),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_model_versions_run_id_runs"),
        sa.ForeignKeyConstraint(
            ["artifact_sha256"],
            ["artifacts.sha256"],
            name="fk_model_versions_artifact_sha256_artifacts",
        ),
    )

    op.create_table(
        "aliases",
        sa.Column("name", _ID, nullable=False),
        sa.Column("alias", _ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        _ts("updated_at"),
        sa.PrimaryKeyConstraint("name", "alias", name="pk_aliases"),
        sa.ForeignKeyConstraint(
            ["name", "version"],
            ["model_versions.name", "model_versions.version"],
            name="fk_aliases_name_version_model_versions",
        ),
    )

    op.create_table(
        "alias_events",
        sa.Column("event_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", _ID, nullable=False),
        sa.Column("alias", _ID, nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("from_version", sa.Integer(), nullable=True),
        sa.Column("to_version", sa.Integer(), nullable=False),
        sa.Column("actor", _ID, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        _ts("at"),
        sa.PrimaryKeyConstraint("event_id", name="pk_alias_events"),
        sa.ForeignKeyConstraint(
            ["name", "to_version"],
            ["model_versions.name", "model_versions.version"],
            name="fk_alias_events_name_to_version_model_versions",
        ),
    )
    op.create_index("ix_alias_events_name_alias", "alias_events", ["name", "alias"])


def downgrade() -> None:
    for table in ("alias_events", "aliases", "model_versions", "artifacts", "cells", "runs"):
        op.drop_table(table)
