"""Monitoring: model events, reference profiles, and predictions looked up by version.

Revision ID: 0004
Revises: 0003
Create Date: 2025-03-01

Two new tables and one new index on ``predictions``; no existing column changes, so rows
written before this revision read back as they were. As in 0001, the columns are spelled
out here rather than imported from ``_schema``.
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_ID = sa.String(255)
_SHA = sa.String(64)


def upgrade() -> None:
    # No foreign key to model_versions: an event may be about a model, not one version.
    op.create_table(
        "model_events",
        sa.Column("event_id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("name", _ID, nullable=False),
        sa.Column("kind", sa.String(32), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor", _ID, nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=True),
        sa.Column("data", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name="pk_model_events"),
    )
    op.create_index("ix_model_events_name_at", "model_events", ["name", "at"])
    op.create_index("ix_model_events_name_kind_at", "model_events", ["name", "kind", "at"])
    # No foreign key to artifacts: training may profile its data before saving the model.
    op.create_table(
        "profiles",
        sa.Column("sha256", _SHA, nullable=False),
        sa.Column("profile", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("sha256", name="pk_profiles"),
    )
    op.create_index("ix_predictions_name_version_at", "predictions", ["name", "version", "at"])


def downgrade() -> None:
    op.drop_index("ix_predictions_name_version_at", table_name="predictions")
    op.drop_table("profiles")
    op.drop_index("ix_model_events_name_kind_at", table_name="model_events")
    op.drop_index("ix_model_events_name_at", table_name="model_events")
    op.drop_table("model_events")
