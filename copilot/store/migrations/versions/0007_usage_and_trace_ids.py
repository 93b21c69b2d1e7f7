"""model_usage (tokens and cost per model call), audit_log.trace_id, turns.traceparent (the request's span context).

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 11:51:45.934170
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "model_usage",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("conversation_id", sa.String(length=64), nullable=True),
        sa.Column("turn_id", sa.String(length=64), nullable=True),
        sa.Column("provider", sa.String(length=64), nullable=False),
        sa.Column("model", sa.String(length=128), nullable=False),
        sa.Column("input_tokens", sa.Integer(), nullable=False),
        sa.Column("output_tokens", sa.Integer(), nullable=False),
        sa.Column("estimated", sa.Boolean(), nullable=False),
        sa.Column("cost_usd", sa.Float(), nullable=False),
        sa.Column("trace_id", sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    with op.batch_alter_table("model_usage", schema=None) as batch_op:
        batch_op.create_index("ix_model_usage_conversation", ["conversation_id"], unique=False)
        batch_op.create_index("ix_model_usage_tenant_at", ["tenant", "at"], unique=False)

    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.add_column(sa.Column("trace_id", sa.String(length=32), nullable=True))

    with op.batch_alter_table("turns", schema=None) as batch_op:
        batch_op.add_column(sa.Column("traceparent", sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("turns", schema=None) as batch_op:
        batch_op.drop_column("traceparent")

    with op.batch_alter_table("audit_log", schema=None) as batch_op:
        batch_op.drop_column("trace_id")

    with op.batch_alter_table("model_usage", schema=None) as batch_op:
        batch_op.drop_index("ix_model_usage_tenant_at")
        batch_op.drop_index("ix_model_usage_conversation")

    op.drop_table("model_usage")
