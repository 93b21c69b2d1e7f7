"""`copilot serve [--host --port --data PATH]`: the HTTP API under uvicorn."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn
from rich.console import Console
from sqlalchemy import select

from copilot.api.app import create_app
from copilot.auth import resolve_secret
from copilot.errors import CopilotError
from copilot.packs import load_pack
from copilot.settings import Settings
from copilot.store.database import make_engine
from copilot.store.schema import documents
from copilot.wiring import seed_if_empty


def settings_with(**overrides: Any) -> Settings:
    """Settings from the environment, with the CLI options that were given."""
    return Settings(**{key: value for key, value in overrides.items() if value is not None})


def demo_user(settings: Settings) -> str | None:
    """Seed on first start (so the hint can name a real customer) and return some user id."""
    engine = make_engine(settings.resolved_database_url)
    try:
        seeded = seed_if_empty(engine, load_pack(settings.pack_path), settings)
        if settings.data_path is not None and not seeded:
            Console(stderr=True).print(
                f"[yellow]--data is loaded on first start only; {settings.data_dir} already holds a store "
                "(use a fresh COPILOT_DATA_DIR to load it).[/yellow]"
            )
        with engine.connect() as conn:
            row = conn.execute(
                select(documents.c.id)
                .where(documents.c.tenant == settings.default_tenant, documents.c.kind == "user")
                .order_by(
                    documents.c.id.not_like("demo%"), documents.c.id
                )  # the pack's fixed demo users first
                .limit(1)
            ).first()
        return str(row[0]) if row else None
    finally:
        engine.dispose()


def serve(
    host: Annotated[str | None, typer.Option(help="Interface (default 127.0.0.1).")] = None,
    port: Annotated[int | None, typer.Option(help="Port (default 8000).")] = None,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="τ²-format db.json to load on first start instead of demo data."),
    ] = None,
) -> None:
    """Serve the API (database, index and secret under COPILOT_DATA_DIR, default ./.copilot)."""
    console = Console(stderr=True)
    settings = settings_with(host=host, port=port, data_path=data)
    try:
        resolve_secret(settings)
        app = create_app(settings)
        user = demo_user(settings)
    except CopilotError as exc:
        console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from exc
    url = f"http://{settings.host}:{settings.port}"
    console.print(f"Support Copilot on [bold]{url}[/bold]  (start page: {url}/, API docs: {url}/docs)")
    console.print(
        f"A demo customer token: [bold]copilot token --role customer --user {user or 'USER_ID'}[/bold]"
    )
    # SIGTERM: open SSE streams keep flowing while running turns drain (copilot.api.events), then close;
    # uvicorn gives connections that long before it cuts them.
    grace = int(settings.drain_seconds) + 10
    uvicorn.run(
        app, host=settings.host, port=settings.port, log_level="info", timeout_graceful_shutdown=grace
    )
