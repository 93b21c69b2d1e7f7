"""One Settings object (COPILOT_ prefix), built in create_app or the CLI, never at import time."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COPILOT_", extra="ignore")

    env: Literal["development", "production"] = "development"
    data_dir: Path = Path(".copilot")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default is a SQLite file under data_dir."
    )
    secret: str | None = Field(default=None, description="HMAC secret for bearer tokens.")
    default_tenant: str = "demo"
    model: str = Field(
        default="offline", description="'offline' or 'provider:model', e.g. openai:gpt-4o-mini"
    )
    model_base_url: str | None = None
    pack_path: Path = PROJECT_ROOT / "tools" / "retail"
    policy_dir: Path = PROJECT_ROOT / "policies"
    data_path: Path | None = Field(default=None, description="τ²-format db.json to load instead of demo data")
    kb_path: Path | None = Field(default=None, description="Extra knowledge to ingest (md/html/jsonl)")
    kb_embedder: str = Field(
        default="wordllama",
        description="Dense retrieval model fused with BM25: wordllama (in its wheel, offline), none (BM25 "
        "only) or st:<local sentence-transformers model directory> (extra `embeddings`).",
    )
    kb_internal_title_prefixes: list[str] = Field(
        default=["Internal:"],
        description="Documents whose title starts with one of these (case-insensitive) and that set no "
        "`audience` are internal: staff only (JSON list; [] turns the rule off).",
    )
    confirmation_ttl_seconds: int = 600
    delta_flush_ms: int = Field(
        default=40, ge=0, description="Streamed token deltas are merged and appended at most this often."
    )
    delta_flush_chars: int = Field(default=256, ge=1, description="...or once this many characters wait.")
    host: str = "127.0.0.1"
    port: int = 8000
    redis_url: str | None = Field(
        default=None,
        description="redis://host:port/db: workers share a doorbell (event fan-out, turns, policy) and rate limits.",
    )
    event_poll_seconds: float = Field(
        default=1.0,
        gt=0,
        description="How often an idle SSE tail re-reads the log when no Redis doorbell can wake it.",
    )
    turn_lease_seconds: float = Field(
        default=10.0, gt=0, description="A running turn's lease; a dead worker's turn is recovered after it."
    )
    turn_poll_seconds: float = Field(default=0.5, gt=0, description="How often a worker looks for turns.")
    turn_capacity: int = Field(default=64, ge=1, description="Turns one worker runs at the same time.")
    turn_max_attempts: int = Field(default=3, ge=1, description="Runs of a turn before it is given up.")
    drain_seconds: float = Field(
        default=20.0, ge=0, description="On shutdown, how long running turns may finish before recovery."
    )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'copilot.db').resolve()}"

    @property
    def sqlite_path(self) -> Path | None:
        url = self.resolved_database_url
        prefix = "sqlite:///"
        return Path(url[len(prefix) :]) if url.startswith(prefix) else None
