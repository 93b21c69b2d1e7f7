"""The Alembic migration environment (env.py, script.py.mako, versions/), driven by copilot.store.migrate."""
