"""`copilot redteam CASES.jsonl --data PATH`: replay attacker-style tool calls through the gateway.

Each case runs as its principal (tenant demo by default), exactly as if the model had emitted the call.
`allow` must execute; `deny`, `invalid` and `deny|invalid` accept either refusal; `confirm` must stop at a
preview with the store unchanged; alternatives joined by `|` pass on any of them; and an execute attempt without the human's approval must be refused. Any change of the
domain data by a case that is not allowed to change it counts as an unauthorized execution.
"""

from __future__ import annotations

import hashlib
import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import track
from rich.table import Table
from sqlalchemy import Engine, Text, select, type_coerce

from copilot import jsonl
from copilot.errors import CopilotError
from copilot.gateway.gateway import Gateway
from copilot.gateway.result import GatewayResult
from copilot.gateway.seeded import seeded_gateway
from copilot.principal import ROLES, Principal
from copilot.settings import Settings
from copilot.store.schema import documents, resource_owners

EXPECTATIONS = frozenset({"allow", "deny", "invalid", "confirm"})


@dataclass(frozen=True, slots=True)
class Verdict:
    case_id: str
    kind: str
    expect: str
    got: str
    ok: bool
    unauthorized: bool


def load_cases(path: Path) -> list[dict[str, Any]]:
    """Parse the JSONL file; a malformed line is a usage error naming the line."""
    cases: list[dict[str, Any]] = []
    for number, line in jsonl.lines(path):
        try:
            case = json.loads(line)
        except ValueError as exc:
            raise typer.BadParameter(f"{path}:{number} is not JSON: {exc}") from exc
        if not isinstance(case, dict) or not {"tool", "principal", "expect"} <= case.keys():
            raise typer.BadParameter(f"{path}:{number} needs tool, principal, arguments and expect")
        cases.append(case)
    return cases


def fingerprint(engine: Engine) -> str:
    """sha256 over every domain document and resource owner (raw stored JSON text, in key order)."""
    digest = hashlib.sha256()
    with engine.connect() as conn:
        docs = select(documents.c.tenant, documents.c.kind, documents.c.id, documents.c.owner,
                      type_coerce(documents.c.data, Text)).order_by(documents.c.tenant, documents.c.kind, documents.c.id)  # fmt: skip
        owners = select(resource_owners).order_by(
            resource_owners.c.tenant, resource_owners.c.kind, resource_owners.c.id
        )
        for query in (docs, owners):
            for row in conn.execute(query):
                digest.update("\x1f".join(str(v) for v in row).encode())
                digest.update(b"\x1e")
    return digest.hexdigest()


def _principal(case: dict[str, Any], tenant: str) -> Principal | None:
    who = case.get("principal")
    if not isinstance(who, dict) or who.get("role") not in ROLES or not isinstance(who.get("user_id"), str):
        return None
    return Principal(tenant=str(who.get("tenant", tenant)), role=who["role"], user_id=who["user_id"])


def _describe(result: GatewayResult) -> str:
    return f"{result.outcome}:{result.code}" if result.code else result.outcome


def expectations(expect: object) -> frozenset[str]:
    """`deny`, `confirm`, or alternatives like `deny|invalid` (spaces ignored); empty when malformed."""
    wanted = frozenset(part.strip() for part in str(expect).split("|"))
    return wanted if wanted <= EXPECTATIONS else frozenset()


def _passes(wanted: frozenset[str], outcome: str) -> bool:
    refused = outcome in ("denied", "invalid")
    return (
        ("allow" in wanted and outcome == "executed")
        or (bool(wanted & {"deny", "invalid"}) and refused)
        or ("confirm" in wanted and outcome == "preview")
    )


def replay(gateway: Gateway, case: dict[str, Any], tenant: str, before: str) -> tuple[Verdict, str]:
    """Run one case; returns the verdict and the store fingerprint after it."""
    case_id, kind, expect = str(case.get("id", "?")), str(case.get("kind", "?")), str(case["expect"])
    principal, wanted = _principal(case, tenant), expectations(case["expect"])
    if principal is None or not wanted:
        return Verdict(case_id, kind, expect, "bad case", False, False), before
    result = gateway.call(principal, str(case["tool"]), case.get("arguments"), conversation_id="redteam")
    premature = gateway.execute(principal, result.preview.preview_id) if result.preview else None
    after = fingerprint(gateway.engine)
    changed = after != before
    executed_early = premature is not None and premature.outcome == "executed"
    unauthorized = changed or executed_early or (result.outcome == "executed" and "allow" not in wanted)
    ok = not unauthorized and _passes(wanted, result.outcome)
    return Verdict(case_id, kind, expect, _describe(result), ok, unauthorized), after


def report(console: Console, verdicts: list[Verdict]) -> None:
    table = Table(title="red-team replay")
    for column in ("kind", "cases", "passed", "mismatches", "unauthorized"):
        table.add_column(column, justify="left" if column == "kind" else "right")
    for kind in sorted({v.kind for v in verdicts}):
        rows = [v for v in verdicts if v.kind == kind]
        bad = sum(not v.ok for v in rows)
        table.add_row(
            kind, str(len(rows)), str(len(rows) - bad), str(bad), str(sum(v.unauthorized for v in rows))
        )
    console.print(table)
    for verdict in [v for v in verdicts if not v.ok][:25]:
        console.print(
            f"[red]mismatch[/red] {escape(verdict.case_id)}: expected {verdict.expect}, got {escape(verdict.got)}"
        )


def redteam(
    cases: Annotated[
        Path,
        typer.Argument(
            help="JSONL of cases {id, kind, principal, tool, arguments, expect}; expect is allow, confirm, "
            "deny, invalid or alternatives such as deny|invalid (deny and invalid accept either refusal)."
        ),
    ],
    data: Annotated[
        Path | None, typer.Option("--data", help="τ²-format db.json (default: demo data).")
    ] = None,
    tenant: Annotated[str, typer.Option("--tenant", help="Tenant the principals belong to.")] = "demo",
) -> None:
    """Replay each case through the gateway; exit 1 on any mismatch or unauthorized execution."""
    console = Console()
    loaded = load_cases(cases)
    verdicts: list[Verdict] = []
    try:
        with seeded_gateway(Settings(), data=data, tenant=tenant) as gateway:
            state = fingerprint(gateway.engine)
            for case in track(loaded, description="replaying", console=console, transient=True):
                verdict, state = replay(gateway, case, tenant, state)
                verdicts.append(verdict)
    except CopilotError as exc:
        console.print(f"[red]{escape(exc.message)}[/red]")
        raise typer.Exit(2) from exc
    report(console, verdicts)
    mismatches = sum(not v.ok for v in verdicts)
    unauthorized = sum(v.unauthorized for v in verdicts)
    expected = Counter(v.expect for v in verdicts)
    console.print(f"expectations: {dict(sorted(expected.items()))}", highlight=False)
    typer.echo(f"{len(verdicts)} cases, {mismatches} mismatches, {unauthorized} unauthorized executions")
    if mismatches or unauthorized:
        raise typer.Exit(1)
