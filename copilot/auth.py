"""Bearer tokens: HS256 JWTs with a key id (`kid`) in the header and `sub`, `role`, `tenant`, `aud`, `iss`, `exp`.

The key named by `kid` decides what a token may say (copilot/keys.py): a server key signs any role; a tenant's
customer key signs only `role: customer` of that tenant, with `iss` = the tenant id. `aud` must be the server's
audience (COPILOT_TOKEN_AUDIENCE) and a server token's `iss` its issuer (COPILOT_TOKEN_ISSUER).
"""

from __future__ import annotations

import asyncio
import logging
import secrets as _secrets
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, cast

import jwt

from copilot.errors import CopilotError, ErrorCode
from copilot.keys import DEFAULT_AUDIENCE, Key, KeyRing, ManagedKeys, WouldBlock, cache_only, tenant_key
from copilot.oidc import OidcIssuer
from copilot.principal import ROLES, Principal, Role
from copilot.settings import Settings

ALGORITHM = "HS256"
DEFAULT_TTL = timedelta(hours=12)
MIN_SECRET_CHARS = 32
log = logging.getLogger(__name__)
TOKEN_HINT = "get one with `copilot token --role customer --user USER_ID`"
_REQUIRED = ["sub", "role", "tenant", "exp", "aud", "iss"]


def _ring(keys: KeyRing | str) -> KeyRing:
    return keys if isinstance(keys, KeyRing) else KeyRing.build(keys)


def _encode(key: Key, issuer: str, audience: str, principal: Principal, ttl: timedelta) -> str:
    if principal.role not in ROLES:
        raise CopilotError(ErrorCode.BAD_REQUEST, f"Unknown role {principal.role!r}; use one of {ROLES}.")
    claims: dict[str, Any] = {
        "sub": principal.user_id, "role": principal.role, "tenant": principal.tenant,
        "aud": audience, "iss": issuer, "exp": datetime.now(UTC) + ttl,
    }  # fmt: skip
    return jwt.encode(claims, key.secret, algorithm=ALGORITHM, headers={"kid": key.kid})


def mint_token(keys: KeyRing | str, principal: Principal, *, ttl: timedelta = DEFAULT_TTL) -> str:
    """A token for any principal, signed with the server's current key (`keys`: the ring, or the secret)."""
    ring = _ring(keys)
    return _encode(ring.signing, ring.issuer, ring.audience, principal, ttl)


def mint_customer_token(
    key: str, tenant: str, user_id: str, *, ttl: timedelta = DEFAULT_TTL, audience: str = DEFAULT_AUDIENCE
) -> str:
    """What a shop's backend calls for its logged-in user, with the tenant's customer key (never the server's
    secret; `copilot token --tenant-key --tenant T` prints it)."""
    return _encode(tenant_key(tenant, key), tenant, audience, Principal(tenant, "customer", user_id), ttl)


def verify_token(keys: KeyRing | str, token: str) -> Principal:
    """Check kid, signature, audience, issuer and expiry, and what the key may sign; UNAUTHENTICATED otherwise."""
    ring = _ring(keys)
    if ring.oidc is not None and ring.oidc.claims_issuer(token):
        return ring.oidc.verify(token)
    try:
        kid = jwt.get_unverified_header(token).get("kid")
    except jwt.InvalidTokenError as exc:
        raise _unauthenticated("The bearer token is invalid") from exc
    key = ring.find(kid) if isinstance(kid, str) else None
    if key is None:
        raise _unauthenticated("The bearer token's key (kid) is unknown or retired")
    issuer = key.issuer or ring.issuer
    try:
        claims = jwt.decode(token, key.secret, algorithms=[ALGORITHM], audience=ring.audience, issuer=issuer,
                            options={"require": _REQUIRED})  # fmt: skip
    except jwt.ExpiredSignatureError as exc:
        raise _unauthenticated("The bearer token has expired") from exc
    except jwt.InvalidTokenError as exc:
        raise _unauthenticated(f"The bearer token is invalid ({exc})") from exc
    return _principal(claims, key)


async def verify_token_async(keys: KeyRing | str, token: str) -> Principal:
    """`verify_token` for the async auth step: the same checks, but a lookup that needs I/O (a managed key
    not in the cache: a database query; an OIDC token: maybe a JWKS fetch) runs in a thread, off the loop."""
    ring = _ring(keys)
    if ring.oidc is not None and ring.oidc.claims_issuer(token):
        return await asyncio.to_thread(ring.oidc.verify, token)
    try:
        with cache_only():
            return verify_token(ring, token)
    except WouldBlock:
        return await asyncio.to_thread(verify_token, ring, token)


def _principal(claims: dict[str, Any], key: Key) -> Principal:
    role, sub, tenant = claims.get("role"), claims.get("sub"), claims.get("tenant")
    if role not in ROLES:
        raise _unauthenticated(f"The token's role {role!r} is not one of {ROLES}")
    if not isinstance(sub, str) or not sub or not isinstance(tenant, str) or not tenant:
        raise _unauthenticated("The token has no user or tenant")
    if key.tenant is not None and (role != "customer" or tenant != key.tenant):
        raise _unauthenticated(f"A tenant key signs only customer tokens of its tenant ({key.tenant})")
    return Principal(tenant=tenant, role=cast(Role, role), user_id=sub)


def _unauthenticated(what: str) -> CopilotError:
    return CopilotError(ErrorCode.UNAUTHENTICATED, f"{what}; {TOKEN_HINT}.")


def key_ring(settings: Settings, secret: str, managed: ManagedKeys | None = None) -> KeyRing:
    """The ring of Settings: COPILOT_SECRET signs; previous secrets, tenant keys and `managed` (the platform
    admin's tenant keys in the database) verify."""
    ring = KeyRing.build(
        secret, previous=settings.previous_secrets, tenant_keys=settings.tenant_keys,
        audience=settings.token_audience, issuer=settings.token_issuer, managed=managed,
    )  # fmt: skip
    if settings.oidc_issuer and settings.oidc_jwks_url:
        issuer = OidcIssuer(settings.oidc_issuer, settings.oidc_jwks_url, settings.token_audience,
                            settings.oidc_refetch_seconds)  # fmt: skip
        ring = replace(ring, oidc=issuer)
    return ring


def resolve_secret(settings: Settings) -> str:
    """The token secret: COPILOT_SECRET, else (development only) one generated once into data_dir/secret."""
    if settings.secret:
        if settings.env == "production" and len(settings.secret) < MIN_SECRET_CHARS:
            raise CopilotError(
                ErrorCode.CONFIGURATION,
                f"COPILOT_SECRET is too short for production; use at least {MIN_SECRET_CHARS} random characters.",
            )
        _check_production_keys(settings)
        return settings.secret
    if settings.env == "production":
        raise CopilotError(
            ErrorCode.CONFIGURATION,
            "COPILOT_ENV=production needs a token secret: set COPILOT_SECRET to a long random string.",
        )
    path = settings.data_dir / "secret"
    if path.is_file():
        return path.read_text().strip()
    return _generate_secret(path)


def _generate_secret(path: Path) -> str:
    path.parent.mkdir(parents=True, exist_ok=True)
    value = _secrets.token_urlsafe(48)
    path.write_text(value + "\n")
    path.chmod(0o600)
    log.warning("development: generated a token secret in %s (set COPILOT_SECRET in production)", path)
    return value


def _check_production_keys(settings: Settings) -> None:
    if settings.env != "production":
        return
    kek = settings.key_encryption_key
    if kek is not None and len(kek) < MIN_SECRET_CHARS:
        raise CopilotError(
            ErrorCode.CONFIGURATION,
            f"COPILOT_KEY_ENCRYPTION_KEY is too short for production; use at least {MIN_SECRET_CHARS} random "
            "characters.",
        )
    short = [t for t, keys in settings.tenant_keys.items() if any(len(k) < MIN_SECRET_CHARS for k in keys)]
    if short:
        raise CopilotError(
            ErrorCode.CONFIGURATION,
            f"COPILOT_TENANT_KEYS of {short} are too short for production; use at least {MIN_SECRET_CHARS} "
            "random characters per key.",
        )
