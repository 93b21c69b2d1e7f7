"""tenant_keys.secret holds the secret encrypted under the key-encryption key (copilot/keywrap.py): wide enough
for a Fernet token. Plaintext rows from 0010 are encrypted at start-up (TenantKeyStore.upgrade), which needs the
server's KEK, so not here.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 16:00:00
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0013"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("tenant_keys", schema=None) as batch_op:
        batch_op.alter_column("secret", existing_type=sa.String(length=128), type_=sa.String(length=512))


def downgrade() -> None:
    with op.batch_alter_table("tenant_keys", schema=None) as batch_op:
        batch_op.alter_column("secret", existing_type=sa.String(length=512), type_=sa.String(length=128))
