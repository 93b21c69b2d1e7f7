"""Persistence: one SQLAlchemy database (SQLite file by default, Postgres by URL)."""
