"""Versioned policy store, one per tenant (copilot/store/versioned.py): every change is a `policy_versions` row
of the tenant (author, time, message, full rule set, diff vs parent, etag), and the tenant's `policy_state` row
points at the active version; the Casbin enforcer is built from the row the pointer names. A `PolicyStore` is
bound to one tenant and sees nothing else."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine

from copilot.errors import CopilotError, ErrorCode
from copilot.gateway.casbin_authorizer import CasbinAuthorizer
from copilot.policy.rules import Rule, RuleDiff, diff_rules, digest, normalize
from copilot.store.schema import policy_state, policy_versions
from copilot.store.versioned import (
    Document,
    PreconditionRequired,
    Version,
    VersionConflict,
    VersionedStore,
    VersionKind,
    make_etag,
    normalize_etag,
)

__all__ = [
    "PolicyConflict",
    "PolicyStore",
    "PolicyVersion",
    "PreconditionRequired",
    "make_etag",
    "normalize_etag",
]

PolicyConflict = VersionConflict


def _diff(before: Any, after: Any) -> dict[str, Any]:
    return diff_rules(normalize(before), normalize(after)).to_dict()


POLICY = Document(
    versions=policy_versions, state=policy_state, body="rules", digest=lambda rules: digest(normalize(rules)),
    diff=_diff, empty=[], noun="policy", where="GET /v1/policy",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class PolicyVersion:
    version: int
    created_at: datetime
    author: str
    message: str
    kind: VersionKind
    parent: int | None
    rollback_of: int | None
    rules: list[Rule]
    diff: RuleDiff
    digest: str
    etag: str

    def to_dict(self, *, rules: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {
            "version": self.version, "created_at": self.created_at.isoformat(), "author": self.author,
            "message": self.message, "kind": self.kind, "parent": self.parent, "rollback_of": self.rollback_of,
            "digest": self.digest, "etag": self.etag, "diff": self.diff.to_dict(),
        }  # fmt: skip
        if rules:
            body["rules"] = [list(r) for r in self.rules]
        return body


def _policy_version(stored: Version) -> PolicyVersion:
    diff = stored.diff
    return PolicyVersion(
        version=stored.version, created_at=stored.created_at, author=stored.author, message=stored.message,
        kind=stored.kind, parent=stored.parent, rollback_of=stored.rollback_of, rules=normalize(stored.body),
        diff=RuleDiff([tuple(r) for r in diff.get("added", [])], [tuple(r) for r in diff.get("removed", [])]),
        digest=stored.digest, etag=stored.etag,
    )  # fmt: skip


class PolicyStore:
    def __init__(self, engine: Engine, model_text: str, tenant: str) -> None:
        self.engine = engine
        self.model_text = model_text
        self.tenant = tenant
        self.versions = VersionedStore(engine, POLICY, tenant)

    def for_tenant(self, tenant: str) -> PolicyStore:
        """The same database, another tenant's policy."""
        return PolicyStore(self.engine, self.model_text, tenant)

    # -- reads ------------------------------------------------------------------------------------------------
    def active_number(self, conn: Connection | None = None) -> int | None:
        """The cheap stamp every worker compares before a decision (one indexed single-row read), on
        `conn` when the caller already holds one (the gateway: no extra pool checkout)."""
        return self.versions.active_number(conn)

    def active(self) -> PolicyVersion:
        stored = self.versions.active()
        if stored is None:
            raise CopilotError(
                ErrorCode.NOT_FOUND,
                f"Tenant {self.tenant!r} has no policy; a platform admin creates tenants (POST /v1/tenants).",
            )
        return _policy_version(stored)

    def get(self, number: int) -> PolicyVersion:
        return _policy_version(self.versions.get(number))

    def history(self, *, limit: int = 50, offset: int = 0) -> tuple[list[PolicyVersion], int]:
        """Newest first, and the total count."""
        stored, total = self.versions.history(limit=limit, offset=offset)
        return [_policy_version(v) for v in stored], total

    def load_authorizer(self) -> tuple[int, CasbinAuthorizer] | None:
        """The active version's Casbin enforcer, built from the version row the active pointer names (None:
        the tenant has no policy)."""
        stored = self.versions.active()
        if stored is None:
            return None
        active = _policy_version(stored)
        label = f"v{active.version}"  # audit rows carry the tenant beside it
        return active.version, CasbinAuthorizer.from_rules(self.model_text, active.rules, label=label)

    # -- writes -----------------------------------------------------------------------------------------------
    def seed_if_empty(self, rules: list[Rule], *, author: str = "system:seed") -> PolicyVersion | None:
        """Version 1 from the seed files, only when the tenant has no policy yet."""
        seeded = self.versions.seed_if_empty(
            [list(r) for r in normalize(rules)], author=author, message="seed from policies/policy.csv"
        )
        return None if seeded is None else _policy_version(seeded)

    def activate(
        self, rules: list[Rule], *, author: str, message: str, if_match: str | None,
        kind: VersionKind = "change", rollback_of: int | None = None,
    ) -> PolicyVersion:  # fmt: skip
        """Store `rules` as the next version and make it active, iff `if_match` is the active etag (None: only
        when nothing is stored). Callers validate first; this is all-or-nothing."""
        stored = self.versions.activate(
            [list(r) for r in normalize(rules)], author=author, message=message, if_match=if_match, kind=kind,
            rollback_of=rollback_of,
        )  # fmt: skip
        return _policy_version(stored)
