"""per-tenant policies: a `tenants` registry; policy versions and the active pointer are keyed by tenant.

The policy stored before this revision was one global rule set; it becomes the policy of the default tenant
(COPILOT_DEFAULT_TENANT, else `demo`), which is also registered. Other tenants are created by the platform
admin (POST /v1/tenants) and seeded from policies/.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 12:00:00
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_VERSION_COLUMNS = (
    "version, created_at, author, message, kind, parent, rollback_of, rules, diff, digest, etag"
)


def _version_columns() -> list[sa.Column[object]]:
    return [
        sa.Column("version", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("author", sa.String(256), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.Column("kind", sa.String(16), nullable=False),
        sa.Column("parent", sa.Integer(), nullable=True),
        sa.Column("rollback_of", sa.Integer(), nullable=True),
        sa.Column("rules", sa.JSON(), nullable=False),
        sa.Column("diff", sa.JSON(), nullable=False),
        sa.Column("digest", sa.String(64), nullable=False),
        sa.Column("etag", sa.String(64), nullable=False),
    ]


def upgrade() -> None:
    tenant = os.environ.get("COPILOT_DEFAULT_TENANT") or "demo"
    op.create_table(
        "tenants",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("name", sa.String(256), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_by", sa.String(256), nullable=False),
    )
    op.create_table(
        "policy_versions_by_tenant", sa.Column("tenant", sa.String(64), primary_key=True), *_version_columns()
    )
    op.create_table(
        "policy_state_by_tenant",
        sa.Column("tenant", sa.String(64), primary_key=True),
        sa.Column("active_version", sa.Integer(), nullable=False),
        sa.Column("etag", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    bind = op.get_bind()
    params = {"tenant": tenant}
    bind.execute(sa.text(f"INSERT INTO policy_versions_by_tenant (tenant, {_VERSION_COLUMNS}) "
                         f"SELECT :tenant, {_VERSION_COLUMNS} FROM policy_versions"), params)  # fmt: skip
    bind.execute(sa.text("INSERT INTO policy_state_by_tenant (tenant, active_version, etag, updated_at) "
                         "SELECT :tenant, active_version, etag, updated_at FROM policy_state"), params)  # fmt: skip
    if bind.execute(sa.text("SELECT count(*) FROM policy_state")).scalar_one():
        bind.execute(
            sa.text("INSERT INTO tenants (tenant, name, created_at, created_by) VALUES (:tenant, :tenant, :now, "
                    "'system:migration')"), {**params, "now": datetime.now(UTC)},
        )  # fmt: skip
    op.drop_table("policy_versions")
    op.drop_table("policy_state")
    op.rename_table("policy_versions_by_tenant", "policy_versions")
    op.rename_table("policy_state_by_tenant", "policy_state")


def downgrade() -> None:
    """Back to one global policy: the default tenant's (other tenants' policies are dropped)."""
    tenant = os.environ.get("COPILOT_DEFAULT_TENANT") or "demo"
    op.create_table("policy_versions_global", *_version_columns())
    op.create_table(
        "policy_state_global",
        sa.Column("id", sa.Integer(), primary_key=True, autoincrement=False),
        sa.Column("active_version", sa.Integer(), nullable=False),
        sa.Column("etag", sa.String(64), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
    )
    bind, params = op.get_bind(), {"tenant": tenant}
    bind.execute(sa.text(f"INSERT INTO policy_versions_global ({_VERSION_COLUMNS}) SELECT {_VERSION_COLUMNS} "
                         "FROM policy_versions WHERE tenant = :tenant"), params)  # fmt: skip
    bind.execute(sa.text("INSERT INTO policy_state_global (id, active_version, etag, updated_at) "
                         "SELECT 1, active_version, etag, updated_at FROM policy_state WHERE tenant = :tenant"),
                 params)  # fmt: skip
    op.drop_table("policy_versions")
    op.drop_table("policy_state")
    op.drop_table("tenants")
    op.rename_table("policy_versions_global", "policy_versions")
    op.rename_table("policy_state_global", "policy_state")
