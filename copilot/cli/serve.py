"""`copilot serve [--host --port --data PATH]`: the HTTP API under uvicorn."""

from __future__ import annotations

import logging
import logging.config
from pathlib import Path
from typing import Annotated, Any

import typer
import uvicorn
from rich.console import Console
from sqlalchemy import select

from copilot.api.app import create_app
from copilot.auth import resolve_secret
from copilot.errors import CopilotError
from copilot.logs import logging_config, resolve_format
from copilot.packs import load_pack
from copilot.redaction import install_log_redaction
from copilot.settings import Settings
from copilot.store.database import make_engine
from copilot.store.schema import documents
from copilot.wiring import seed_if_empty

log = logging.getLogger("copilot.serve")


def settings_with(**overrides: Any) -> Settings:
    """Settings from the environment, with the CLI options that were given."""
    return Settings(**{key: value for key, value in overrides.items() if value is not None})


def demo_user(settings: Settings) -> str | None:
    """Seed on first start (so the hint can name a real customer) and return some user id."""
    engine = make_engine(settings.resolved_database_url)
    try:
        seeded = seed_if_empty(engine, load_pack(settings.pack_path), settings)
        if settings.data_path is not None and not seeded:
            log.warning(
                "--data is loaded on first start only; %s already holds a store (use a fresh "
                "COPILOT_DATA_DIR to load it).", settings.data_dir,
            )  # fmt: skip
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
    log_config = logging_config(settings.log_format, settings.log_level)
    logging.config.dictConfig(log_config)  # before the app is built: its start-up logs go the same way
    install_log_redaction()
    as_json = resolve_format(settings.log_format) == "json"
    try:
        resolve_secret(settings)
        app = create_app(settings)
        user = demo_user(settings)
    except CopilotError as exc:
        if as_json:
            log.error("%s", exc.message, extra={"event": "serve.refused", "code": exc.code.value})
        else:
            console.print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from exc
    url = f"http://{settings.host}:{settings.port}"
    if as_json:  # every stderr line is JSON: the banner is a record
        log.info("Support Copilot on %s (API docs: %s/docs)", url, url, extra={"event": "serve.starting"})
    else:
        console.print(f"Support Copilot on [bold]{url}[/bold]  (start page: {url}/, API docs: {url}/docs)")
        console.print(
            f"A demo customer token: [bold]copilot token --role customer --user {user or 'USER_ID'}[/bold]"
        )
    # SIGTERM: open SSE streams keep flowing while running turns drain (copilot.api.events), then close;
    # uvicorn gives connections that long before it cuts them.
    grace = int(settings.drain_seconds) + 10
    uvicorn.run(
        app, host=settings.host, port=settings.port, log_level=settings.log_level, log_config=log_config,
        timeout_graceful_shutdown=grace,
    )  # fmt: skip
