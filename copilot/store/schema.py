"""Every table of the copilot, in one MetaData. Domain records are JSON documents keyed by (tenant, kind, id)."""

from __future__ import annotations

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

# Domain data of a tool pack (users, orders, products...). `owner` is the user id that owns the record.
# `version` starts at 1 and grows by one per write: DocumentStore.put is a compare-and-set on it.
documents = Table(
    "documents",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("id", String(128), primary_key=True),
    Column("owner", String(128), nullable=True, index=True),
    Column("data", JSON, nullable=False),
    Column("version", Integer, nullable=False, server_default="1"),
)

# Owned sub-resources that live inside another document (e.g. a payment method inside a user).
resource_owners = Table(
    "resource_owners",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("kind", String(32), primary_key=True),
    Column("id", String(128), primary_key=True),
    Column("owner", String(128), nullable=False),
)

# Previews awaiting confirmation: bound to principal, tool, canonical-args hash and preview hash.
previews = Table(
    "previews",
    metadata,
    Column("preview_id", String(64), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("principal", String(256), nullable=False),
    Column("conversation_id", String(64), nullable=True),
    Column("tool", String(64), nullable=False),
    Column("arguments", JSON, nullable=False),
    Column("args_hash", String(64), nullable=False),
    Column("preview_hash", String(64), nullable=False),
    Column("preview", JSON, nullable=False),
    Column("idempotency_key", String(128), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("approved_by", String(256), nullable=True),
    Column("approved", Boolean, nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("used_at", DateTime(timezone=True), nullable=True),
)

# Exactly-once ledger: a write with the same idempotency key returns the stored result.
executions = Table(
    "executions",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("idempotency_key", String(128), primary_key=True),
    Column("tool", String(64), nullable=False),
    Column("args_hash", String(64), nullable=False),
    Column("result", JSON, nullable=False),
    Column("executed_at", DateTime(timezone=True), nullable=False),
)

# Append-only record of every gateway decision.
audit_log = Table(
    "audit_log",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("decision_id", String(64), nullable=False, index=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("tenant", String(64), nullable=False, index=True),
    Column("principal", String(256), nullable=False),
    Column("role", String(32), nullable=False),
    Column("conversation_id", String(64), nullable=True, index=True),
    Column("tool", String(64), nullable=False),
    Column("arguments", JSON, nullable=False),
    Column("outcome", String(32), nullable=False),
    Column("code", String(64), nullable=True),
    Column("reason", Text, nullable=True),
    Column("policy_version", String(64), nullable=False),
    Column("latency_ms", Float, nullable=False),
    Column("trace_id", String(32), nullable=True),
    Column("prompt_version", String(64), nullable=True),
    Column("model", String(256), nullable=True),
    Column("turn_id", String(64), nullable=True),
)

conversations = Table(
    "conversations",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("tenant", String(64), nullable=False, index=True),
    Column("customer", String(128), nullable=False),
    Column("customer_role", String(32), nullable=False),
    Column("status", String(32), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# The conversation's event log; SSE clients tail it and resume from Last-Event-ID (= seq).
events = Table(
    "events",
    metadata,
    Column("conversation_id", String(64), primary_key=True),
    Column("seq", Integer, primary_key=True),
    Column("type", String(64), nullable=False),
    Column("turn_id", String(64), nullable=True),
    Column("data", JSON, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
)

Index("ix_documents_owner_kind", documents.c.tenant, documents.c.kind, documents.c.owner)

# Tenants (managed by the platform admin): each has its own policy versions, seeded from policies/ at creation.
tenants = Table(
    "tenants",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("name", String(256), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(256), nullable=False),
)

# Policy versions, per tenant: every change is a new row with the full rule set and its diff.
policy_versions = Table(
    "policy_versions",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("author", String(256), nullable=False),
    Column("message", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("parent", Integer, nullable=True),
    Column("rollback_of", Integer, nullable=True),
    Column("rules", JSON, nullable=False),
    Column("diff", JSON, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("etag", String(64), nullable=False),
)

# The active policy version of each tenant; writers compare-and-swap its etag (optimistic concurrency).
policy_state = Table(
    "policy_state",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("active_version", Integer, nullable=False),
    Column("etag", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Prompt versions, per tenant (copilot/prompts/): the system prompt and the templates the graph sends the model,
# versioned like policies (same columns; `templates` is the body), seeded from the tool pack on first use.
prompt_versions = Table(
    "prompt_versions",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("version", Integer, primary_key=True, autoincrement=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("author", String(256), nullable=False),
    Column("message", Text, nullable=False),
    Column("kind", String(16), nullable=False),
    Column("parent", Integer, nullable=True),
    Column("rollback_of", Integer, nullable=True),
    Column("templates", JSON, nullable=False),
    Column("diff", JSON, nullable=False),
    Column("digest", String(64), nullable=False),
    Column("etag", String(64), nullable=False),
)

# The published prompt version of each tenant (compare-and-swap on its etag, like policy_state).
prompt_state = Table(
    "prompt_state",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("active_version", Integer, nullable=False),
    Column("etag", String(64), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)

# Human handoff queue: one row per conversation (the latest handoff); its history is in the event log.
handoffs = Table(
    "handoffs",
    metadata,
    Column("conversation_id", String(64), primary_key=True),
    Column("tenant", String(64), nullable=False, index=True),
    Column("customer", String(128), nullable=False),
    Column("status", String(16), nullable=False),
    Column("team", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("summary", JSON, nullable=False),
    Column("claimed_by", String(256), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("claimed_at", DateTime(timezone=True), nullable=True),
    Column("closed_at", DateTime(timezone=True), nullable=True),
)

# Writes over a staff member's limit, waiting for a supervisor; records who decided and what ran.
approvals = Table(
    "approvals",
    metadata,
    Column("approval_id", String(64), primary_key=True),
    Column("tenant", String(64), nullable=False, index=True),
    Column("conversation_id", String(64), nullable=True, index=True),
    Column("requested_by", String(256), nullable=False),
    Column("tool", String(64), nullable=False),
    Column("arguments", JSON, nullable=False),
    Column("amount", Float, nullable=True),
    Column("limit", Float, nullable=True),
    Column("status", String(16), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("decided_by", String(256), nullable=True),
    Column("decided_at", DateTime(timezone=True), nullable=True),
    Column("preview_id", String(64), nullable=True),
    Column("result", JSON, nullable=True),
    Column("description", JSON, nullable=True),  # the write as plain sentences (gateway/describe.py)
)

# Durable turns: a job per turn (a message, a confirmation's resume), run by any worker under a lease.
# `running` holds the conversation id while the turn runs: its unique constraint allows one running turn
# per conversation across every worker and process; queued turns of a conversation run in created order.
turns = Table(
    "turns",
    metadata,
    Column("turn_id", String(64), primary_key=True),
    Column("conversation_id", String(64), nullable=False),
    Column("principal", JSON, nullable=False),
    Column("text", Text, nullable=True),
    Column("resume", JSON, nullable=True),
    Column("status", String(16), nullable=False),
    Column("outcome", String(32), nullable=True),
    Column("running", String(64), nullable=True, unique=True),
    Column("worker", String(128), nullable=True),
    Column("lease_until", DateTime(timezone=True), nullable=True),
    Column("attempts", Integer, nullable=False, default=0),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("finished_at", DateTime(timezone=True), nullable=True),
    Column("traceparent", String(64), nullable=True),
    Column("cancel_requested_at", DateTime(timezone=True), nullable=True),
)
Index("ix_turns_status_conversation", turns.c.status, turns.c.conversation_id, turns.c.created_at)
Index("ix_turns_conversation_status", turns.c.conversation_id, turns.c.status)

# Model usage: one row per chat-model call of a turn. Tokens come from the provider's response
# (`estimated` when the model reported none); the cost from the price table in force at the call.
model_usage = Table(
    "model_usage",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("at", DateTime(timezone=True), nullable=False),
    Column("tenant", String(64), nullable=False),
    Column("conversation_id", String(64), nullable=True),
    Column("turn_id", String(64), nullable=True),
    Column("provider", String(64), nullable=False),
    Column("model", String(128), nullable=False),
    Column("input_tokens", Integer, nullable=False),
    Column("output_tokens", Integer, nullable=False),
    Column("estimated", Boolean, nullable=False),
    Column("cost_usd", Float, nullable=False),
    Column("trace_id", String(32), nullable=True),
)
Index("ix_model_usage_tenant_at", model_usage.c.tenant, model_usage.c.at)
Index("ix_model_usage_conversation", model_usage.c.conversation_id)

# Customer feedback on the copilot's answers: one row per answer (the message.completed event's seq), the
# latest rating; `revisions` counts how often it was given (each change is also a feedback.recorded event).
feedback = Table(
    "feedback",
    metadata,
    Column("conversation_id", String(64), primary_key=True),
    Column("message_seq", Integer, primary_key=True, autoincrement=False),
    Column("tenant", String(64), nullable=False),
    Column("customer", String(128), nullable=False),
    Column("turn_id", String(64), nullable=True),
    Column("rating", String(8), nullable=False),
    Column("comment", Text, nullable=True),
    Column("revisions", Integer, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
)
Index("ix_feedback_tenant_updated", feedback.c.tenant, feedback.c.updated_at)

# What a conversation's event log says about its outcome (copilot/telemetry/outcomes.py), folded once and kept
# while the log is unchanged: valid only while the log's last seq is still `last_seq` (events are append-only).
# Feedback, handoff rows, cost and the window are read fresh on every report.
outcome_facts = Table(
    "outcome_facts",
    metadata,
    Column("conversation_id", String(64), primary_key=True),
    Column("last_seq", Integer, nullable=False),
    Column("engaged", Boolean, nullable=False),
    Column("handed_off", Boolean, nullable=False),
    Column("tools", JSON, nullable=False),
    Column("confirmed_seq", Integer, nullable=True),
)

# Tenant customer-token keys managed by the platform admin (copilot/tenant_keys.py), beside COPILOT_TENANT_KEYS.
# A key verifies until `expires_at` (a rotation's grace period; NULL: no end) unless `retired_at` is set.
tenant_keys = Table(
    "tenant_keys",
    metadata,
    Column("kid", String(96), primary_key=True),
    Column("tenant", String(64), nullable=False),
    Column("secret", String(512), nullable=False),  # encrypted: copilot/keywrap.py
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("created_by", String(256), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("retired_at", DateTime(timezone=True), nullable=True),
)
Index("ix_tenant_keys_tenant", tenant_keys.c.tenant)

# Each tenant's own policy tests (copilot/policy/suites.py): file name → YAML text; no row: the seed suites of
# policies/tests. The seed's required suites (invariants) always run as well and are not the tenant's to edit.
policy_tests = Table(
    "policy_tests",
    metadata,
    Column("tenant", String(64), primary_key=True),
    Column("suites", JSON, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False),
    Column("updated_by", String(256), nullable=False),
)
