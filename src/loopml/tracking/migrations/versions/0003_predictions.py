"""Serving: the predictions a model server made and the feedback on them.

Revision ID: 0003
Revises: 0002
Create Date: 2025-02-01

Two new tables, nothing else changes. As in 0001, the columns are spelled out here rather
than imported from ``_schema``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.String(255)


def upgrade() -> None:
    op.create_table(
        "predictions",
        sa.Column("request_id", _ID, nullable=False),
        sa.Column("row", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", _ID, nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("features", sa.JSON(), nullable=False),
        sa.Column("prediction", sa.JSON(), nullable=True),
        sa.Column("probabilities", sa.JSON(), nullable=True),
        sa.Column("latency_ms", sa.Double(), nullable=False),
        sa.PrimaryKeyConstraint("request_id", "row", name="pk_predictions"),
    )
    op.create_index("ix_predictions_name_at", "predictions", ["name", "at"])
    # No foreign key to predictions: a label may arrive before its prediction is written.
    op.create_table(
        "feedback",
        sa.Column("request_id", _ID, nullable=False),
        sa.Column("row", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("name", _ID, nullable=False),
        sa.Column("label", sa.JSON(), nullable=True),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("request_id", "row", name="pk_feedback"),
    )


def downgrade() -> None:
    op.drop_table("feedback")
    op.drop_index("ix_predictions_name_at", table_name="predictions")
    op.drop_table("predictions")
