"""Baseline: the schema of release 746edb1, created by that release's own table definitions.

Revision ID: 0001
Revises:
Create Date: 2026-12-01
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

from copilot.store.migrations import baseline

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    baseline.metadata.create_all(op.get_bind())


def downgrade() -> None:
    baseline.metadata.drop_all(op.get_bind())
