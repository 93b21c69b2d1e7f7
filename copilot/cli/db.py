"""`copilot db upgrade | current | revision`: the database schema (Alembic revisions in copilot/store/migrations).

`serve` upgrades on start as well; run `copilot db upgrade` first to migrate during a maintenance window, and
`copilot db current --check` in a deploy script to refuse to continue on an un-migrated database."""

from __future__ import annotations

from typing import Annotated

import typer
from rich.console import Console
from sqlalchemy import Engine

from copilot.errors import CopilotError
from copilot.settings import Settings
from copilot.store.database import open_engine
from copilot.store.migrate import current_revision, head, migrate, new_revision

db_app = typer.Typer(help="Database schema: upgrade to the newest revision, show the current one.")

_DONE = {
    "created": "created the schema at revision {after}",
    "adopted": "adopted a database made before migrations existed; now at revision {after}",
    "upgraded": "upgraded from revision {before} to {after}",
    "current": "already at the newest revision {after}",
}


@db_app.command("upgrade")
def upgrade() -> None:
    """Bring the configured database (COPILOT_DATABASE_URL, or the SQLite file under COPILOT_DATA_DIR) to head."""
    engine = open_engine(Settings().resolved_database_url)
    try:
        result = migrate(engine)
    except CopilotError as exc:
        Console(stderr=True).print(f"[red]error:[/red] {exc.message}", soft_wrap=True)
        raise typer.Exit(2) from exc
    finally:
        engine.dispose()
    typer.echo(f"{_url(engine)}: " + _DONE[result.outcome].format(before=result.before, after=result.after))


@db_app.command("current")
def current(
    check: Annotated[bool, typer.Option("--check", help="Exit 1 unless the database is at head.")] = False,
) -> None:
    """Print the database's schema revision and the newest one this release knows."""
    engine = open_engine(Settings().resolved_database_url)
    try:
        with engine.connect() as conn:
            revision = current_revision(conn)
    finally:
        engine.dispose()
    newest = head()
    if revision == newest:
        typer.echo(f"{_url(engine)}: revision {revision} (head)")
        return
    shown = revision or "none (new, or made before migrations existed)"
    typer.echo(f"{_url(engine)}: revision {shown}; head is {newest}: run `copilot db upgrade`")
    if check:
        raise typer.Exit(1)


@db_app.command("revision")
def revision(
    message: Annotated[str, typer.Option("--message", "-m", help="What changes, e.g. 'turns table'.")],
) -> None:
    """(Developers) write the next revision from what copilot/store/schema.py has that the chain lacks."""
    path = new_revision(message)
    typer.echo(f"wrote {path}: review it (and its downgrade), then `make lint test`")


def _url(engine: Engine) -> str:
    return engine.url.render_as_string(hide_password=True)
