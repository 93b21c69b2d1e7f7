"""One Settings object (COPILOT_ prefix), built in create_app or the CLI, never at import time."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, Field, IPvAnyNetwork
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


class ModelPrice(BaseModel):
    """USD per million tokens."""

    input: float = Field(ge=0)
    output: float = Field(ge=0)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="COPILOT_", extra="ignore")

    env: Literal["development", "production"] = "development"
    data_dir: Path = Path(".copilot")
    database_url: str | None = Field(
        default=None, description="SQLAlchemy URL; default is a SQLite file under data_dir."
    )
    secret: str | None = Field(default=None, description="HMAC secret for bearer tokens.")
    # token trust (copilot/keys.py): rotation, per-tenant customer keys, audience and issuer
    previous_secrets: list[str] = Field(
        default_factory=list, description="Old COPILOT_SECRETs that still verify."
    )
    tenant_keys: dict[str, list[str]] = Field(
        default_factory=dict,
        description='JSON {"tenant": ["key", …]}: keys a shop signs customer tokens with.',
    )
    key_encryption_key: str | None = Field(
        default=None,
        description="Encrypts managed tenant keys at rest (copilot/keywrap.py); unset: derived from COPILOT_SECRET.",
    )
    previous_key_encryption_keys: list[str] = Field(
        default_factory=list, description="Old COPILOT_KEY_ENCRYPTION_KEYs that still decrypt (rotation)."
    )
    token_audience: str = Field(
        default="support-copilot", min_length=1, description="Required `aud` of tokens."
    )
    token_issuer: str = Field(default="support-copilot", min_length=1, description="`iss` of server tokens.")
    oidc_issuer: str | None = Field(
        default=None,
        description="OIDC issuer whose RS256/ES256 tokens sign in staff (agent, supervisor, admin).",
    )
    oidc_jwks_url: str | None = Field(default=None, description="The issuer's JWKS URL (its jwks_uri).")
    oidc_refetch_seconds: float = Field(
        default=30.0, ge=0, description="At most one JWKS refetch per this many seconds for an unknown kid."
    )
    default_tenant: str = "demo"
    model: str = Field(
        default="offline", description="'offline' or 'provider:model', e.g. openai:gpt-4o-mini"
    )
    model_base_url: str | None = Field(
        default=None,
        description="An OpenAI-compatible (or Anthropic) server; keyless local servers need no key.",
    )
    # -- model runtime (README "Plug in a real LLM"; copilot/llm/calls.py, copilot/agent/plan.py) --------------
    model_fallbacks: str = Field(
        default="", description="Comma-separated provider:model list tried in order when COPILOT_MODEL fails."
    )
    model_connect_timeout: float = Field(
        default=5.0, gt=0, description="Seconds to connect to the model server."
    )
    model_read_timeout: float = Field(
        default=30.0,
        gt=0,
        description="Seconds without a byte from the model (a stalled stream) before giving up.",
    )
    model_timeout: float = Field(default=60.0, gt=0, description="Seconds one model call may take in total.")
    model_retries: int = Field(default=2, ge=0, description="Retries per model after a timeout, 429 or 5xx.")
    model_backoff_seconds: float = Field(
        default=0.5, ge=0, description="First retry wait; doubles each retry."
    )
    model_max_retry_after: float = Field(
        default=20.0, ge=0, description="A longer Retry-After is not waited for: the next fallback is tried."
    )
    model_max_tokens: int | None = Field(default=1024, ge=1, description="Cap on each answer's tokens.")
    model_temperature: float | None = Field(default=None, ge=0, le=2)
    model_tool_choice: Literal["auto", "required", "none"] | None = None
    model_context_tokens: int | None = Field(
        default=32_000, ge=1024, description="The model's context window; older history is trimmed to fit."
    )
    history_summary: Literal["auto", "model", "extractive", "off"] = Field(
        default="auto",
        description="History that no longer fits the context window is summarised: by the model, extractively, "
        "or not at all (only left out); auto: extractive for the offline model, else the model.",
    )
    turn_max_model_calls: int = Field(default=10, ge=1, description="Model calls one turn may make.")
    turn_max_tool_calls: int = Field(default=12, ge=0, description="Tool calls one turn may make.")
    turn_max_tokens: int = Field(
        default=100_000, ge=1, description="Tokens (prompt + answer) one turn may use."
    )
    domain_policy_path: Path | None = Field(
        default=None,
        description="The shop's policy (markdown) for the system prompt instead of the pack's own.",
    )
    tool_repeat_limit: int = Field(
        default=2, ge=1, description="The same failing tool call this often in one turn hands off to a human."
    )
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
    # abuse limits (copilot/api/limits.py, copilot/streamcap.py)
    max_body_bytes: int = Field(
        default=1_048_576, ge=1024, description="Largest request body accepted (413)."
    )
    max_streams_per_user: int = Field(default=8, ge=1, description="Open SSE streams per principal (429).")
    messages_per_minute: int = Field(
        default=30, ge=1, description="Messages a principal may post per minute."
    )
    # -- telemetry, usage and retention (copilot/telemetry) ------------------------------------------------
    metrics_enabled: bool = Field(default=True, description="Prometheus metrics at GET /metrics.")
    metrics_token: str | None = Field(
        default=None, description="When set, GET /metrics needs `Authorization: Bearer <this token>`."
    )
    metrics_allow: list[IPvAnyNetwork] = Field(
        default_factory=list,
        description='When set, GET /metrics answers only these client networks, e.g. ["10.0.0.0/8", "127.0.0.1"].',
    )
    log_format: Literal["auto", "json", "text"] = Field(
        default="auto",
        description="copilot serve's logs on stderr: json lines, text, or auto (text on a terminal, else json).",
    )
    log_level: Literal["debug", "info", "warning", "error"] = "info"
    otlp_endpoint: str | None = Field(
        default=None,
        description="OTLP/HTTP traces endpoint (e.g. http://collector:4318/v1/traces); tracing is off without it.",
    )
    service_name: str = Field(default="support-copilot", description="OpenTelemetry service.name.")
    prices: dict[str, ModelPrice] = Field(
        default_factory=dict,
        description='USD per million tokens by "provider:model", e.g. {"openai:gpt-4o-mini": {"input": 0.15, '
        '"output": 0.6}}; unknown models cost 0.',
    )
    token_budgets: dict[str, int] = Field(
        default_factory=dict,
        description='Model tokens a tenant may use per budget period, e.g. {"demo": 2000000}.',
    )
    token_budget_period: Literal["day", "month"] = "month"
    resolution_window_hours: float = Field(
        default=24.0,
        gt=0,
        description="Outcomes: a conversation without handoff is 'assumed resolved' when its customer starts no "
        "new conversation within this many hours of its last activity.",
    )
    retention_days: int | None = Field(
        default=None, ge=1, description="Conversations older than this are deleted by `copilot data retain`."
    )

    @property
    def fallback_models(self) -> list[str]:
        return [spec.strip() for spec in self.model_fallbacks.split(",") if spec.strip()]

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
