"""policy_tests: each tenant's own policy test suites (file name → YAML), run before every save of its policy.

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 15:15:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "policy_tests",
        sa.Column("tenant", sa.String(length=64), nullable=False),
        sa.Column("suites", sa.JSON(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_by", sa.String(length=256), nullable=False),
        sa.PrimaryKeyConstraint("tenant"),
    )


def downgrade() -> None:
    op.drop_table("policy_tests")
