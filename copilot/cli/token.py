"""`copilot token --role R --user U [--tenant T] [--ttl 12h]`: print a bearer token the server accepts.

Staff, admin and guest tokens are signed with the server key (COPILOT_SECRET, or the development secret under
COPILOT_DATA_DIR, as `serve` uses); customer tokens with the tenant's customer key, exactly as a shop's backend
signs them. `copilot token --tenant-key [--tenant T]` prints that key and its kid for the shop's backend. A tenant
whose keys the platform admin manages (copilot/tenant_keys.py) has no key to print — its secret was shown once —
so the command says how to get a new one; its customer tokens are signed with the server key."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, cast

import typer
from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from copilot.auth import key_ring, mint_customer_token, mint_token, resolve_secret
from copilot.errors import CopilotError
from copilot.keys import Key, KeyRing
from copilot.keywrap import key_wrap
from copilot.principal import ROLES, Principal, Role
from copilot.settings import Settings
from copilot.store.database import open_engine
from copilot.tenant_keys import TenantKeyStore
from copilot.tenants import PLATFORM_ROLE, PLATFORM_TENANT

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_ttl(value: str) -> timedelta:
    """'3600', '90s', '30m', '12h' or '7d' → a positive timedelta."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", value)
    if match is None or int(match.group(1)) <= 0:
        raise typer.BadParameter("use a positive duration like 3600, 30m, 12h or 7d")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2) or "s"])


def _role(value: str) -> str | None:
    return value if value in ROLES else None


def token(
    role: Annotated[str | None, typer.Option("--role", help=f"One of {', '.join(ROLES)}.")] = None,
    user: Annotated[str | None, typer.Option("--user", help="User id (the token's subject).")] = None,
    tenant: Annotated[
        str | None, typer.Option("--tenant", help="Tenant (default: COPILOT_DEFAULT_TENANT).")
    ] = None,
    ttl: Annotated[str, typer.Option("--ttl", help="Lifetime: 3600, 30m, 12h, 7d.")] = "12h",
    tenant_key: Annotated[
        bool, typer.Option("--tenant-key", help="Print the tenant's customer key (for the shop's backend).")
    ] = False,
) -> None:
    """Print a bearer token for ROLE:USER@TENANT (use it as `Authorization: Bearer <token>`)."""
    settings = Settings()
    if role == PLATFORM_ROLE:  # the platform admin belongs to no tenant
        if tenant not in (None, PLATFORM_TENANT):
            raise typer.BadParameter(
                "the platform role has no tenant; leave --tenant out", param_hint="--tenant"
            )
        tenant = PLATFORM_TENANT
    tenant = tenant or settings.default_tenant
    try:
        secret = resolve_secret(settings)
        ring = key_ring(settings, secret)
    except CopilotError as exc:
        Console(stderr=True).print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from exc
    managed = tenant not in settings.tenant_keys and _managed(settings, secret, tenant)
    if tenant_key:
        if managed:
            Console(stderr=True).print(f"[red]{_managed_hint(tenant)}[/red]")
            raise typer.Exit(1)
        _print_tenant_key(ring, tenant)
        return
    lifetime = parse_ttl(ttl)
    if role is None or _role(role) is None:
        raise typer.BadParameter(f"use one of {', '.join(ROLES)}", param_hint="--role")
    if user is None or not user.strip():
        raise typer.BadParameter("must not be empty", param_hint="--user")
    if role == "customer" and not managed:  # a managed tenant's: the server key signs it (any role)
        print(mint_customer_token(_customer_key(ring, tenant).secret, tenant, user.strip(), ttl=lifetime,
                                  audience=ring.audience))  # fmt: skip
        return
    print(
        mint_token(ring, Principal(tenant=tenant, role=cast(Role, role), user_id=user.strip()), ttl=lifetime)
    )


def _customer_key(ring: KeyRing, tenant: str) -> Key:
    try:
        return ring.customer_key(tenant)
    except LookupError as exc:
        Console(stderr=True).print(f"[red]COPILOT_TENANT_KEYS lists no key for tenant {tenant!r}.[/red]")
        raise typer.Exit(1) from exc


def _managed(settings: Settings, secret: str, tenant: str) -> bool:
    """Whether the platform admin manages `tenant`'s keys in the server's database (no database yet: no)."""
    engine = open_engine(settings.resolved_database_url)
    try:
        wrap = key_wrap(settings.key_encryption_key, settings.previous_key_encryption_keys, secret,
                        settings.previous_secrets)  # fmt: skip
        return TenantKeyStore(engine, wrap).manages(tenant)
    except SQLAlchemyError:
        return False
    finally:
        engine.dispose()


def _managed_hint(tenant: str) -> str:
    return (
        f"Tenant {tenant!r}'s customer keys are managed by the platform admin, so there is no key to print: "
        "each secret is shown once, when it is created. Get a new one with "
        f"`POST /v1/tenants/{tenant}/keys/rotate` (a platform token: `copilot token --role platform --user "
        f"ops`); `GET /v1/tenants/{tenant}/keys` lists the kids. `copilot token --role customer` still works "
        "(signed with the server key)."
    )


def _print_tenant_key(ring: KeyRing, tenant: str) -> None:
    key = _customer_key(ring, tenant)
    print(f"tenant: {tenant}\nkid: {key.kid}\nkey: {key.secret}\naudience: {ring.audience}")
    Console(stderr=True).print(
        "Give this key to the shop's backend only: it signs customer tokens of this tenant and nothing else "
        "(HS256, header kid, claims sub, role=customer, tenant, iss=<tenant>, aud, exp)."
    )
