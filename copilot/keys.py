"""Token signing keys: the server's own keys (any role) and per-tenant customer keys (customer tokens of one
tenant only), each named by a key id (`kid`) so several can be active at once and keys rotate without downtime.

* **Server keys** sign staff, admin and guest tokens (and the CLI's): `COPILOT_SECRET` signs; each of
  `COPILOT_PREVIOUS_SECRETS` still verifies. Rotate: make the new secret COPILOT_SECRET and list the old one in
  COPILOT_PREVIOUS_SECRETS on every worker; drop it once its tokens have expired (12 h by default).
* **Tenant keys** are what a shop's backend holds to mint its customers' tokens. A token signed with one may
  only say `role: customer` and that tenant, whatever else it claims. Configure them with
  `COPILOT_TENANT_KEYS` (JSON: tenant → list of keys, all active: add the new key, move the backend to it,
  remove the old). A tenant without configured keys gets keys derived from each server key,
  HMAC-SHA256(server key, tenant): `copilot token --tenant-key` prints the current one; knowing it reveals
  nothing about the server key or other tenants.

A kid is `s-<fingerprint>` (server) or `t-<tenant>-<fingerprint>` (tenant): the fingerprint is the first 12
hex digits of the key's SHA-256, so a kid names its key without revealing it.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from typing import Protocol

from copilot.principal import Principal

DEFAULT_AUDIENCE = "support-copilot"
DEFAULT_ISSUER = "support-copilot"


def fingerprint(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()[:12]


def derive_tenant_key(server_secret: str, tenant: str) -> str:
    return hmac.new(
        server_secret.encode(), b"copilot customer key\x00" + tenant.encode(), "sha256"
    ).hexdigest()


@dataclass(frozen=True, slots=True)
class Key:
    kid: str
    secret: str = field(repr=False)
    tenant: str | None
    """None: a server key (any role, any tenant). Else: customer tokens of this tenant only."""

    @property
    def issuer(self) -> str | None:
        """The `iss` a tenant key's tokens must carry: the tenant id (server keys: the ring's issuer)."""
        return self.tenant


def server_key(secret: str) -> Key:
    return Key(f"s-{fingerprint(secret)}", secret, None)


def tenant_key(tenant: str, secret: str) -> Key:
    return Key(f"t-{tenant}-{fingerprint(secret)}", secret, tenant)


class WouldBlock(Exception):
    """A key lookup needs I/O (a database query, a JWKS fetch) while `cache_only` is in effect."""


_cache_only: ContextVar[bool] = ContextVar("copilot_keys_cache_only", default=False)


@contextmanager
def cache_only() -> Iterator[None]:
    """Within: a lookup that would block raises WouldBlock instead (the async auth step then verifies again
    in a thread, so the event loop never waits on the database)."""
    token = _cache_only.set(True)
    try:
        yield
    finally:
        _cache_only.reset(token)


def may_block() -> None:
    """Called by a lookup before its I/O: WouldBlock within `cache_only`."""
    if _cache_only.get():
        raise WouldBlock


class ManagedKeys(Protocol):
    """Tenant keys kept elsewhere (the platform admin's, in the database: copilot/tenant_keys.py). Lookups
    that need I/O call `may_block()` first."""

    def find(self, kid: str) -> Key | None:
        """The tenant key named `kid` if it verifies now."""
        ...

    def manages(self, tenant: str) -> bool:
        """Whether `tenant`'s keys are managed here (then no key is derived for it)."""
        ...


class StaffIssuer(Protocol):
    """An external issuer of staff tokens (copilot/oidc.py)."""

    def claims_issuer(self, token: str) -> bool: ...

    def verify(self, token: str) -> Principal: ...


@dataclass(frozen=True, slots=True)
class KeyRing:
    """Every key that verifies tokens; `signing` signs the server's own tokens."""

    signing: Key
    previous: tuple[Key, ...] = ()
    tenant_keys: Mapping[str, tuple[Key, ...]] = field(default_factory=dict)
    audience: str = DEFAULT_AUDIENCE
    issuer: str = DEFAULT_ISSUER
    managed: ManagedKeys | None = None
    oidc: StaffIssuer | None = None
    """An OIDC issuer for staff tokens (copilot/oidc.py)."""

    @classmethod
    def build(
        cls,
        secret: str,
        *,
        previous: Sequence[str] = (),
        tenant_keys: Mapping[str, Sequence[str]] | None = None,
        audience: str = DEFAULT_AUDIENCE,
        issuer: str = DEFAULT_ISSUER,
        managed: ManagedKeys | None = None,
    ) -> KeyRing:
        tenants = {t: tuple(tenant_key(t, k) for k in keys) for t, keys in (tenant_keys or {}).items()}
        previous_keys = tuple(server_key(s) for s in previous if s)
        return cls(server_key(secret), previous_keys, tenants, audience, issuer, managed)

    def find(self, kid: str) -> Key | None:
        """The key named `kid`, or None (unknown, retired, or a tenant's derived key no longer in use)."""
        if kid.startswith("s-"):
            return next((k for k in (self.signing, *self.previous) if k.kid == kid), None)
        if not kid.startswith("t-"):
            return None
        tenant = kid[2:].rpartition("-")[0]
        known = next((k for k in self.keys_of(tenant) if k.kid == kid), None)
        if known is None and self.managed is not None:
            found = self.managed.find(kid)
            known = found if found is not None and found.tenant == tenant else None
        return known

    def keys_of(self, tenant: str) -> tuple[Key, ...]:
        """A tenant's configured customer keys; a tenant with neither configured nor managed keys gets one
        derived from each server key."""
        if tenant in self.tenant_keys:
            return self.tenant_keys[tenant]
        if self.managed is not None and self.managed.manages(tenant):
            return ()
        servers = (self.signing, *self.previous)
        return tuple(tenant_key(tenant, derive_tenant_key(k.secret, tenant)) for k in servers)

    def customer_key(self, tenant: str) -> Key:
        """The key a shop's backend should sign with now (the first active one)."""
        keys = self.keys_of(tenant)
        if not keys:
            raise LookupError(f"tenant {tenant!r} has no customer keys")
        return keys[0]
