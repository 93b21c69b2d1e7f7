"""Tenant customer-token keys the platform admin manages through the API (`/v1/tenants/{tenant}/keys`), stored
in the database beside COPILOT_TENANT_KEYS: create (the secret is shown once), rotate (a new key; the others
keep verifying for a grace period, then expire), retire (stops verifying now).

A managed key is a tenant key like any other (copilot/keys.py): it signs only `role: customer` tokens of its
tenant. Once a tenant has a managed key (even a retired one), the key derived from the server secret no longer
verifies for it: the platform admin took the tenant's keys in hand. Lookups are cached for CACHE_SECONDS per
kid, so a retire reaches the other workers within that; this worker forgets at once. The secret is stored
encrypted under the key-encryption key (copilot/keywrap.py; HS256 needs the secret itself to verify): the
database alone mints nothing. `upgrade` (at start-up) encrypts plaintext rows from migration 0010 and
re-encrypts rows under a previous KEK, and refuses to start if a row opens under none.
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

from sqlalchemy import Engine, insert, select, update

from copilot.errors import CopilotError, ErrorCode
from copilot.keys import Key, may_block, tenant_key
from copilot.keywrap import KeyWrap, key_wrap
from copilot.settings import Settings
from copilot.store.schema import tenant_keys

CACHE_SECONDS = 2.0
log = logging.getLogger(__name__)
Status = Literal["active", "expiring", "retired"]


@dataclass(frozen=True, slots=True)
class ManagedKey:
    kid: str
    tenant: str
    created_at: datetime
    created_by: str
    expires_at: datetime | None
    retired_at: datetime | None

    def status(self, now: datetime) -> Status:
        if self.retired_at is not None or (self.expires_at is not None and _aware(self.expires_at) <= now):
            return "retired"
        return "expiring" if self.expires_at is not None else "active"

    def to_dict(self, now: datetime) -> dict[str, Any]:
        def iso(at: datetime | None) -> str | None:
            return _aware(at).isoformat() if at is not None else None

        return {"kid": self.kid, "tenant": self.tenant, "status": self.status(now),
                "created_at": iso(self.created_at), "created_by": self.created_by,
                "expires_at": iso(self.expires_at), "retired_at": iso(self.retired_at)}  # fmt: skip


def _aware(at: datetime) -> datetime:
    """SQLite returns naive datetimes for timezone-aware columns: they are UTC."""
    return at if at.tzinfo is not None else at.replace(tzinfo=UTC)


def _row(mapping: Any) -> ManagedKey:
    return ManagedKey(**{k: mapping[k] for k in ManagedKey.__slots__})


class TenantKeyStore:
    """The managed keys (writes for the API; `find`/`manages` for the KeyRing, cached)."""

    def __init__(
        self, engine: Engine, wrap: KeyWrap, clock: Callable[[], datetime] = lambda: datetime.now(UTC)
    ) -> None:
        self._engine, self._wrap, self._clock = engine, wrap, clock
        self._lock = threading.Lock()
        self._kids: dict[str, tuple[float, tuple[ManagedKey, str] | None]] = {}
        self._tenants: dict[str, tuple[float, bool]] = {}

    # -- the KeyRing's view --------------------------------------------------------------------------------
    def find(self, kid: str) -> Key | None:
        """The key named `kid` if it verifies now (neither retired nor past its grace period)."""
        found = self._cached_kid(kid)
        if found is None:
            return None
        record, secret = found
        return tenant_key(record.tenant, secret) if record.status(self._clock()) != "retired" else None

    def manages(self, tenant: str) -> bool:
        """Whether the tenant has ever had a managed key (then its derived key no longer verifies)."""
        with self._lock:
            hit = self._tenants.get(tenant)
        if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
            return hit[1]
        may_block()
        with self._engine.connect() as conn:
            some = conn.execute(
                select(tenant_keys.c.kid).where(tenant_keys.c.tenant == tenant).limit(1)
            ).first()
        with self._lock:
            self._tenants[tenant] = (time.monotonic(), some is not None)
        return some is not None

    def _cached_kid(self, kid: str) -> tuple[ManagedKey, str] | None:
        with self._lock:
            hit = self._kids.get(kid)
        if hit is not None and time.monotonic() - hit[0] < CACHE_SECONDS:
            return hit[1]
        may_block()
        with self._engine.connect() as conn:
            row = conn.execute(select(tenant_keys).where(tenant_keys.c.kid == kid)).first()
        value = (_row(row._mapping), self._open(str(row.secret))) if row is not None else None
        with self._lock:
            self._kids[kid] = (time.monotonic(), value)
        return value

    def _open(self, stored: str) -> str:
        try:
            return self._wrap.open(stored)
        except CopilotError as exc:  # another worker's KEK wrote the row: the operator's to fix, not a 500
            log.error("%s", exc.message)
            raise CopilotError(
                ErrorCode.UNAUTHENTICATED,
                "The bearer token's tenant key cannot be used: this server's key-encryption key does not open "
                "it (the operator must align COPILOT_KEY_ENCRYPTION_KEY on every worker); retry later.",
            ) from exc

    def _forget(self, tenant: str) -> None:
        with self._lock:
            self._tenants.pop(tenant, None)
            self._kids.clear()  # writes are rare; a kid's next lookup reads the row again

    def upgrade(self) -> int:
        """Encrypt every row under the current KEK (plaintext or a previous KEK's); how many were rewritten.
        CONFIGURATION (before anything is written) if some row opens under no KEK."""
        with self._engine.begin() as conn:
            rows = conn.execute(select(tenant_keys.c.kid, tenant_keys.c.secret)).all()
            resealed = [(r.kid, self._wrap.reseal(str(r.secret))) for r in rows]
            for kid, sealed in resealed:
                if sealed is not None:
                    conn.execute(update(tenant_keys).where(tenant_keys.c.kid == kid).values(secret=sealed))
        return sum(sealed is not None for _, sealed in resealed)

    # -- the platform admin's API ---------------------------------------------------------------------------
    def listing(self, tenant: str) -> list[ManagedKey]:
        query = select(tenant_keys).where(tenant_keys.c.tenant == tenant).order_by(tenant_keys.c.created_at)
        with self._engine.connect() as conn:
            return [_row(r._mapping) for r in conn.execute(query)]

    def create(self, tenant: str, by: str) -> tuple[ManagedKey, str]:
        """A new active key; its secret is returned here and never again."""
        secret = secrets.token_urlsafe(48)
        record = ManagedKey(tenant_key(tenant, secret).kid, tenant, self._clock(), by, None, None)
        with self._engine.begin() as conn:
            conn.execute(insert(tenant_keys).values(secret=self._wrap.seal(secret), **{
                k: getattr(record, k) for k in ManagedKey.__slots__}))  # fmt: skip
        self._forget(tenant)
        return record, secret

    def rotate(self, tenant: str, by: str, grace: timedelta) -> tuple[ManagedKey, str]:
        """A new key; every other live key of the tenant expires after `grace` (sooner if it already did)."""
        until = self._clock() + grace
        with self._engine.begin() as conn:
            live = (tenant_keys.c.tenant == tenant) & tenant_keys.c.retired_at.is_(None)
            conn.execute(
                update(tenant_keys).where(live & tenant_keys.c.expires_at.is_(None)).values(expires_at=until)
            )
            conn.execute(
                update(tenant_keys).where(live & (tenant_keys.c.expires_at > until)).values(expires_at=until)
            )
        return self.create(tenant, by)

    def retire(self, tenant: str, kid: str) -> ManagedKey:
        """Stop verifying `kid` now (idempotent); NOT_FOUND unless it is one of `tenant`'s managed keys."""
        match = (tenant_keys.c.kid == kid) & (tenant_keys.c.tenant == tenant)
        with self._engine.begin() as conn:
            conn.execute(update(tenant_keys).where(match & tenant_keys.c.retired_at.is_(None))
                         .values(retired_at=self._clock()))  # fmt: skip
            row = conn.execute(select(tenant_keys).where(match)).first()
        self._forget(tenant)
        if row is None:
            raise CopilotError(
                ErrorCode.NOT_FOUND,
                f"Tenant {tenant!r} has no managed key {kid!r}; list them with GET /v1/tenants/{tenant}/keys.",
            )
        return _row(row._mapping)


def open_tenant_keys(engine: Engine, settings: Settings, secret: str) -> TenantKeyStore:
    """The store under Settings' key-encryption key, every row upgraded to it (CONFIGURATION if one won't open)."""
    wrap = key_wrap(settings.key_encryption_key, settings.previous_key_encryption_keys, secret,
                    settings.previous_secrets)  # fmt: skip
    store = TenantKeyStore(engine, wrap)
    upgraded = store.upgrade()
    if upgraded:
        log.info("tenant keys: %d row(s) encrypted under the current key-encryption key", upgraded)
    return store
