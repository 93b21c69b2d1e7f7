"""The two HTTP servers of the HTTP benchmark, each run as its own process (so its CPU time is its own):

* `copilot` — the real app (`create_app`: offline model, demo store, gateway, KB, event log, SSE) on one
  uvicorn worker.
* `bare` — a bare FastAPI + sse-starlette server that, for each turn, writes a given list of events to the
  same `events` table of the same database kind (the engine of `copilot.store.database.make_engine`, so
  the same durability settings: SQLite WAL + synchronous=NORMAL, or PostgreSQL defaults), one transaction
  per event with seq = max(seq)+1 (`insert_event`), and streams each after its commit. The events are
  posted by the client: the ones the copilot streamed for the same question.

`python -m bench.servers copilot|bare --port P --data-dir D [--database-url URL]`
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import AsyncIterator, Sequence
from pathlib import Path
from typing import Any

import uvicorn
from fastapi import FastAPI
from pydantic import BaseModel
from sse_starlette import EventSourceResponse, ServerSentEvent

from copilot.eventlog import insert_event
from copilot.store.database import make_engine

SECRET = "bench-secret-0123456789-0123456789-0123456789"


class BareTurn(BaseModel):
    conversation_id: str
    events: list[tuple[str, dict[str, Any]]]


def bare_app(database_url: str) -> FastAPI:
    engine = make_engine(database_url)
    app = FastAPI()

    async def stream(turn: BareTurn) -> AsyncIterator[ServerSentEvent]:
        for type, data in turn.events:
            with engine.begin() as conn:
                seq = insert_event(conn, turn.conversation_id, type, data, data.get("turn_id"))  # type: ignore[arg-type]
            yield ServerSentEvent(id=str(seq), event=type, data=json.dumps(data, ensure_ascii=False))

    @app.post("/turn")
    async def turn(body: BareTurn) -> EventSourceResponse:
        return EventSourceResponse(stream(body), ping=15, send_timeout=30)

    @app.get("/healthz")
    async def healthz() -> dict[str, bool]:
        return {"ok": True}

    return app


def copilot_app(data_dir: Path, database_url: str | None) -> FastAPI:
    from copilot.api.app import create_app
    from copilot.settings import Settings

    # the load driver is one customer with many conversations: abuse limits would measure the 429 path
    settings = Settings(
        data_dir=data_dir, database_url=database_url, secret=SECRET, messages_per_minute=10**9,
        max_streams_per_user=10**6,
    )  # fmt: skip
    return create_app(settings)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.servers", description=__doc__)
    parser.add_argument("kind", choices=["copilot", "bare"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data-dir", type=Path, required=True)
    parser.add_argument("--database-url")
    args = parser.parse_args(argv)
    url = args.database_url or f"sqlite:///{args.data_dir / 'bare.db'}"
    app = copilot_app(args.data_dir, args.database_url) if args.kind == "copilot" else bare_app(url)
    # keep-alive well past the client's (httpx: 5 s), so an idle pooled connection is never closed under it
    uvicorn.run(
        app, host="127.0.0.1", port=args.port, log_level="warning", ws="none", access_log=False,
        timeout_keep_alive=120,
    )  # fmt: skip
    return 0


if __name__ == "__main__":
    sys.exit(main())
