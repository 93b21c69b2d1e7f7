"""`copilot token --role R --user U [--tenant T] [--ttl 12h]`: print a bearer token signed with the
configured secret (COPILOT_SECRET, or the development secret under COPILOT_DATA_DIR, as `serve` uses)."""

from __future__ import annotations

import re
from datetime import timedelta
from typing import Annotated, cast

import typer
from rich.console import Console

from copilot.auth import mint_token, resolve_secret
from copilot.errors import CopilotError
from copilot.principal import ROLES, Principal, Role
from copilot.settings import Settings
from copilot.tenants import PLATFORM_ROLE, PLATFORM_TENANT

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400}


def parse_ttl(value: str) -> timedelta:
    """'3600', '90s', '30m', '12h' or '7d' → a positive timedelta."""
    match = re.fullmatch(r"\s*(\d+)\s*([smhd]?)\s*", value)
    if match is None or int(match.group(1)) <= 0:
        raise typer.BadParameter("use a positive duration like 3600, 30m, 12h or 7d")
    return timedelta(seconds=int(match.group(1)) * _UNITS[match.group(2) or "s"])


def _role(value: str) -> str:
    if value not in ROLES:
        raise typer.BadParameter(f"use one of {', '.join(ROLES)}")
    return value


def token(
    role: Annotated[str, typer.Option("--role", help=f"One of {', '.join(ROLES)}.", callback=_role)],
    user: Annotated[str, typer.Option("--user", help="User id (the token's subject).")],
    tenant: Annotated[
        str | None, typer.Option("--tenant", help="Tenant (default: COPILOT_DEFAULT_TENANT).")
    ] = None,
    ttl: Annotated[str, typer.Option("--ttl", help="Lifetime: 3600, 30m, 12h, 7d.")] = "12h",
) -> None:
    """Print a bearer token for ROLE:USER@TENANT (use it as `Authorization: Bearer <token>`)."""
    settings = Settings()
    lifetime = parse_ttl(ttl)
    if not user.strip():
        raise typer.BadParameter("must not be empty", param_hint="--user")
    try:
        secret = resolve_secret(settings)
    except CopilotError as exc:
        Console(stderr=True).print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from exc
    if role == PLATFORM_ROLE:  # the platform admin belongs to no tenant
        if tenant not in (None, PLATFORM_TENANT):
            raise typer.BadParameter(
                "the platform role has no tenant; leave --tenant out", param_hint="--tenant"
            )
        tenant = PLATFORM_TENANT
    principal = Principal(
        tenant=tenant or settings.default_tenant, role=cast(Role, role), user_id=user.strip()
    )
    print(mint_token(secret, principal, ttl=lifetime))
