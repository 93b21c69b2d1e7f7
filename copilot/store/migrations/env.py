"""Alembic environment. `copilot.store.migrate` runs it with an open connection (already in a transaction and,
on Postgres, holding the migration lock) in `config.attributes["connection"]`; there is no alembic.ini."""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection

from copilot.store.migrate import include_name

connection = context.config.attributes.get("connection")
if not isinstance(connection, Connection):
    raise RuntimeError(
        "run migrations through `copilot db upgrade` (copilot.store.migrate), not bare alembic"
    )

context.configure(
    connection=connection,
    target_metadata=context.config.attributes["target_metadata"],  # copilot.store.schema.metadata
    include_name=include_name,
    render_as_batch=connection.dialect.name == "sqlite",  # SQLite ALTERs become copy-and-move batches
    compare_type=True,
)
with context.begin_transaction():  # joins the caller's transaction (one commit for the whole upgrade)
    context.run_migrations()
