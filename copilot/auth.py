"""Bearer tokens: HS256 JWTs signed with the configured secret, carrying sub, role, tenant and exp."""

from __future__ import annotations

import logging
import secrets as _secrets
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import cast

import jwt

from copilot.errors import CopilotError, ErrorCode
from copilot.principal import ROLES, Principal, Role
from copilot.settings import Settings

ALGORITHM = "HS256"
DEFAULT_TTL = timedelta(hours=12)
MIN_SECRET_CHARS = 32
log = logging.getLogger(__name__)
TOKEN_HINT = "get one with `copilot token --role customer --user USER_ID`"


def mint_token(secret: str, principal: Principal, *, ttl: timedelta = DEFAULT_TTL) -> str:
    """Sign a token for `principal` that expires after `ttl`."""
    if principal.role not in ROLES:
        raise CopilotError(ErrorCode.BAD_REQUEST, f"Unknown role {principal.role!r}; use one of {ROLES}.")
    claims = {
        "sub": principal.user_id,
        "role": principal.role,
        "tenant": principal.tenant,
        "exp": datetime.now(UTC) + ttl,
    }
    return jwt.encode(claims, secret, algorithm=ALGORITHM)


def verify_token(secret: str, token: str) -> Principal:
    """Check signature and expiry and return the principal; raise UNAUTHENTICATED otherwise."""
    try:
        claims = jwt.decode(
            token, secret, algorithms=[ALGORITHM], options={"require": ["sub", "role", "tenant", "exp"]}
        )
    except jwt.ExpiredSignatureError as exc:
        raise _unauthenticated("The bearer token has expired") from exc
    except jwt.InvalidTokenError as exc:
        raise _unauthenticated("The bearer token is invalid") from exc
    role, sub, tenant = claims.get("role"), claims.get("sub"), claims.get("tenant")
    if role not in ROLES:
        raise _unauthenticated(f"The token's role {role!r} is not one of {ROLES}")
    if not isinstance(sub, str) or not sub or not isinstance(tenant, str) or not tenant:
        raise _unauthenticated("The token has no user or tenant")
    return Principal(tenant=tenant, role=cast(Role, role), user_id=sub)


def _unauthenticated(what: str) -> CopilotError:
    return CopilotError(ErrorCode.UNAUTHENTICATED, f"{what}; {TOKEN_HINT}.")


def resolve_secret(settings: Settings) -> str:
    """The token secret: COPILOT_SECRET, else (development only) one generated once into data_dir/secret."""
    if settings.secret:
        if settings.env == "production" and len(settings.secret) < MIN_SECRET_CHARS:
            raise CopilotError(
                ErrorCode.CONFIGURATION,
                f"COPILOT_SECRET is too short for production; use at least {MIN_SECRET_CHARS} random characters.",
            )
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
