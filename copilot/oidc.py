"""Staff tokens from an OIDC issuer (COPILOT_OIDC_ISSUER + COPILOT_OIDC_JWKS_URL): asymmetric tokens (RS256,
ES256) whose `kid` names a key in the issuer's JWKS, fetched and cached by PyJWT's `PyJWKClient` (a key the
cache does not know makes it fetch the set again, so the issuer's rotations need nothing here). They must carry
`aud` = COPILOT_TOKEN_AUDIENCE, `iss` = the issuer, `exp`, `sub`, `tenant` and a staff `role` (agent, supervisor
or admin): an identity provider signs in staff, never customers (their tokens come from the shop's tenant key)
nor the platform admin (the server key only). The JWKS fetch is a blocking HTTP call (5 s timeout), made only
on a cache miss (the set is kept 5 min); the API's auth step runs `verify` in a thread (`verify_token_async`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, cast

import jwt

from copilot.errors import CopilotError, ErrorCode
from copilot.principal import Principal, Role

ALGORITHMS = ["RS256", "ES256"]
STAFF_ROLES: frozenset[str] = frozenset({"agent", "supervisor", "admin"})
_REQUIRED = ["sub", "role", "tenant", "exp", "aud", "iss"]


@dataclass(frozen=True)
class OidcIssuer:
    issuer: str
    jwks_url: str
    audience: str
    refetch_seconds: float = 30.0
    """At most one JWKS refetch per this many seconds for unknown kids (a flood of made-up kids costs one)."""
    client: jwt.PyJWKClient = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        client = jwt.PyJWKClient(self.jwks_url, cache_keys=True, lifespan=300, timeout=5,
                                 cooldown_duration=self.refetch_seconds)  # fmt: skip
        object.__setattr__(self, "client", client)

    def claims_issuer(self, token: str) -> bool:
        """Whether `token` says it comes from this issuer (asymmetric algorithm and `iss`), before any check."""
        try:
            header = jwt.get_unverified_header(token)
            claims = jwt.decode(token, options={"verify_signature": False})
        except jwt.InvalidTokenError:
            return False
        return header.get("alg") in ALGORITHMS and claims.get("iss") == self.issuer

    def verify(self, token: str) -> Principal:
        try:
            key = self.client.get_signing_key_from_jwt(token)
            claims: dict[str, Any] = jwt.decode(
                token, key.key, algorithms=ALGORITHMS, audience=self.audience, issuer=self.issuer,
                options={"require": _REQUIRED},
            )  # fmt: skip
        except jwt.PyJWKClientError as exc:
            raise _refused(f"its key is not in the issuer's JWKS ({exc})") from exc
        except jwt.InvalidTokenError as exc:
            raise _refused(f"it is invalid ({exc})") from exc
        role, sub, tenant = claims.get("role"), claims.get("sub"), claims.get("tenant")
        if role not in STAFF_ROLES:
            raise _refused(f"role {role!r} is not a staff role ({sorted(STAFF_ROLES)})")
        if not isinstance(sub, str) or not sub or not isinstance(tenant, str) or not tenant:
            raise _refused("it has no user or tenant")
        return Principal(tenant=tenant, role=cast(Role, role), user_id=sub)


def _refused(why: str) -> CopilotError:
    return CopilotError(
        ErrorCode.UNAUTHENTICATED, f"The identity provider's token was refused: {why}; sign in again."
    )
