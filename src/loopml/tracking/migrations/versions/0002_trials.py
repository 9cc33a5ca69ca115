"""Tuning and crash-resume: trials, run liveness and estimates, a cell's best trial.

Revision ID: 0002
Revises: 0001
Create Date: 2025-01-15

Rows written before this revision read back with the defaults of the new fields: a cell
of one trial, not cached; a run with no host, pid, heartbeat or estimate. As in 0001, the
columns are spelled out here rather than imported from ``_schema``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.String(255)
_SHA = sa.String(64)


def upgrade() -> None:
    # Only ALTERs, never SQLite's copy-and-move of a whole table: dropping the old ``cells``
    # would trip the foreign keys of every registered version that refers to it.
    with op.batch_alter_table("runs", recreate="never") as runs:
        runs.add_column(sa.Column("host", _ID, nullable=True))
        runs.add_column(sa.Column("pid", sa.Integer(), nullable=True))
        runs.add_column(sa.Column("heartbeat_at", sa.DateTime(timezone=True), nullable=True))
        runs.add_column(sa.Column("estimate", sa.JSON(), nullable=True))

    with op.batch_alter_table("cells", recreate="never") as cells:
        cells.add_column(sa.Column("trial_id", _ID, nullable=True))
        cells.add_column(
            sa.Column("n_trials", sa.Integer(), nullable=False, server_default=sa.text("1"))
        )
        cells.add_column(
            sa.Column("cached", sa.Boolean(), nullable=False, server_default=sa.false())
        )

    op.create_table(
        "trials",
        # A surrogate key gives a stable tie-break for trials started at the same instant.
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("trial_id", _ID, nullable=False),
        sa.Column("run_id", _ID, nullable=False),
        sa.Column("pipeline", _ID, nullable=False),
        sa.Column("dataset", _ID, nullable=False),
        sa.Column("model", _ID, nullable=False),
        sa.Column("study_key", _SHA, nullable=False),
        sa.Column("key", _SHA, nullable=False),
        sa.Column("number", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(16), nullable=False),
        sa.Column("params", sa.JSON(), nullable=False),
        sa.Column("rows", sa.BigInteger(), nullable=False),
        sa.Column("features", sa.Integer(), nullable=False),
        sa.Column("rungs", sa.JSON(), nullable=False),
        sa.Column("metrics", sa.JSON(), nullable=False),
        sa.Column("fit_seconds", sa.Double(), nullable=True),
        sa.Column("predict_seconds", sa.Double(), nullable=True),
        sa.Column("artifact_sha256", _SHA, nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("finished_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_trials"),
        sa.UniqueConstraint("trial_id", name="uq_trials_trial_id"),
        sa.ForeignKeyConstraint(["run_id"], ["runs.run_id"], name="fk_trials_run_id_runs"),
    )
    op.create_index("ix_trials_run_id", "trials", ["run_id"])
    op.create_index("ix_trials_study_key", "trials", ["study_key"])
    op.create_index("ix_trials_key", "trials", ["key"])


def downgrade() -> None:
    # ALTER TABLE ... DROP COLUMN, as in upgrade(); SQLite has it from version 3.35.
    op.drop_table("trials")
    with op.batch_alter_table("cells", recreate="never") as cells:
        for column in ("cached", "n_trials", "trial_id"):
            cells.drop_column(column)
    with op.batch_alter_table("runs", recreate="never") as runs:
        for column in ("estimate", "heartbeat_at", "pid", "host"):
            runs.drop_column(column)
