"""`copilot policy lint|test|diff|simulate|show|apply|history|rollback`: policy administration from the terminal.

lint/test/diff work on files (no database needed); simulate/show/apply/history/rollback (and `--version`,
`--tenant`) use the configured database (COPILOT_DATA_DIR or COPILOT_DATABASE_URL), seeded from policies/ on
first use. `--tenant T` picks one tenant's policy, versions and tests (default COPILOT_DEFAULT_TENANT)."""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from copilot.cli.tools_cmd import parse_principal
from copilot.errors import CopilotError
from copilot.gateway.casbin_authorizer import CasbinAuthorizer
from copilot.packs import load_pack
from copilot.policy.diff import decision_diff, default_samples
from copilot.policy.lint import errors_of, lint
from copilot.policy.rules import Rule, diff_rules, parse_csv
from copilot.policy.service import PolicyService, open_policy, read_seed
from copilot.policy.testing import failures, load_suites, report, run_cases
from copilot.principal import Principal
from copilot.settings import Settings
from copilot.store.database import make_engine
from copilot.tenants import TenantRegistry

policy_app = typer.Typer(
    help="Lint, test, diff, simulate and roll back the authorization policy.", no_args_is_help=True
)
console = Console()


def _fail(message: str) -> typer.Exit:
    console.print(f"[red]error:[/red] {message}")
    return typer.Exit(1)


TenantOpt = Annotated[
    str | None, typer.Option("--tenant", help="Tenant whose policy (default: COPILOT_DEFAULT_TENANT).")
]


def _service(settings: Settings, tenant: str | None = None) -> PolicyService:
    engine = make_engine(settings.resolved_database_url)
    service, _ = open_policy(
        engine, load_pack(settings.pack_path), settings.policy_dir, tenant=settings.default_tenant
    )
    if tenant is None or tenant == settings.default_tenant:
        return service
    if TenantRegistry(engine).get(tenant) is None:
        known = ", ".join(t.tenant for t in TenantRegistry(engine).listing())
        raise _fail(
            f"no tenant {tenant!r} (known: {known}); the platform admin creates tenants (POST /v1/tenants)."
        )
    return service.for_tenant(tenant)


def _read_rules(path: Path) -> list[Rule]:
    rules, errors = parse_csv(path.read_text(encoding="utf-8"))
    if errors:
        raise _fail(f"{path}: {errors[0].message}")
    return rules


def _rules_of(ref: str, settings: Settings, tenant: str | None = None) -> tuple[str, list[Rule]]:
    """A policy file path, or a stored version number (`3` or `v3`) of `tenant`."""
    if Path(ref).is_file():
        return ref, _read_rules(Path(ref))
    number = ref.removeprefix("v")
    if not number.isdigit():
        raise _fail(f"{ref!r} is neither a policy file nor a version number.")
    return f"v{number}", _service(settings, tenant).store.get(int(number)).rules


@policy_app.command("lint")
def lint_cmd(
    file: Annotated[Path, typer.Argument(help="Policy CSV (policies/policy.csv format).")],
    parent: Annotated[Path | None, typer.Option(help="Previous version: warn only about new grants.")] = None,
) -> None:
    """Errors (exit 1) and warnings for a policy file."""
    settings = Settings()
    model_text, _ = read_seed(settings.policy_dir)
    tools = {t.spec.name: t.spec.side_effect for t in load_pack(settings.pack_path).tools}
    base = _read_rules(parent) if parent else None
    findings = lint(
        _read_rules(file), tools, model_text=model_text, tenant=settings.default_tenant, parent=base
    )
    for f in findings:
        colour = "red" if f.severity == "error" else "yellow"
        console.print(f"[{colour}]{f.severity}[/{colour}] {f.id}: {f.message}")
    errors = errors_of(findings)
    console.print(f"{len(errors)} errors, {len(findings) - len(errors)} warnings")
    if errors:
        raise typer.Exit(1)


@policy_app.command("test")
def test_cmd(
    version: Annotated[int | None, typer.Option(help="A stored version (uses the database).")] = None,
    file: Annotated[Path | None, typer.Option(help="A proposed policy CSV.")] = None,
    tests: Annotated[
        Path | None, typer.Option(help="Directory of *.yaml tests (default policies/tests).")
    ] = None,
    verbose: Annotated[bool, typer.Option("--verbose", "-v", help="List passing cases too.")] = False,
    tenant: TenantOpt = None,
) -> None:
    """Run the policy tests (like `opa test`); exit 1 on any failure. Default: policies/policy.csv with
    policies/tests; with --tenant: that tenant's active version (or --version/--file) and its own tests."""
    settings = Settings()
    if version is not None and file is not None:
        raise _fail("use --version or --file, not both")
    if tenant is not None:
        service = _service(settings, tenant)
        authorizer = service.authorizer(version=version, rules=_read_rules(file) if file else None)
        results = (
            run_cases(authorizer, load_suites(tests), service.tenant)
            if tests
            else service.run_tests(authorizer)
        )
    else:
        model_text, seed = read_seed(settings.policy_dir)
        if version is not None:
            authorizer = _service(settings).authorizer(version=version)
        else:
            authorizer = CasbinAuthorizer.from_rules(model_text, _read_rules(file) if file else seed)
        results = run_cases(
            authorizer, load_suites(tests or settings.policy_dir / "tests"), settings.default_tenant
        )
    typer.echo(report(results, verbose=verbose))
    if failures(results):
        raise typer.Exit(1)


@policy_app.command("diff")
def diff_cmd(
    before: Annotated[str, typer.Argument(help="Policy file or version number.")],
    after: Annotated[str, typer.Argument(help="Policy file or version number.")],
    tenant: TenantOpt = None,
) -> None:
    """Rule diff and decision diff (every role × every tool) between two policies."""
    settings = Settings()
    model_text, _ = read_seed(settings.policy_dir)
    (name_a, rules_a), (name_b, rules_b) = (
        _rules_of(before, settings, tenant),
        _rules_of(after, settings, tenant),
    )
    changes = diff_rules(rules_a, rules_b)
    for rule in changes.removed:
        typer.echo(f"- {', '.join(rule)}")
    for rule in changes.added:
        typer.echo(f"+ {', '.join(rule)}")
    tools = load_pack(settings.pack_path).tool_names()
    result = decision_diff(
        CasbinAuthorizer.from_rules(model_text, rules_a, label=name_a),
        CasbinAuthorizer.from_rules(model_text, rules_b, label=name_b),
        default_samples(list(tools), tenant or settings.default_tenant),
    )
    for c in result["changed"]:
        typer.echo(f"{c['role']} {c['object']} {c['action']}: {c['before']} → {c['after']}")
    for s in result["settings"]:
        typer.echo(f"{s['role']} {s['key']}: {s['before']} → {s['after']}")
    typer.echo(
        f"{len(changes.added)} added, {len(changes.removed)} removed, {len(result['changed'])} decisions changed"
    )


@policy_app.command("simulate")
def simulate_cmd(
    tool: Annotated[str, typer.Argument(help="Tool name.")],
    *,
    as_: Annotated[str, typer.Option("--as", help="ROLE[:USER], e.g. customer:ethan_kim_8860.")],
    args: Annotated[str, typer.Option("--args", help="Arguments as a JSON object.")] = "{}",
    version: Annotated[int | None, typer.Option(help="A stored version (default: active).")] = None,
    file: Annotated[Path | None, typer.Option(help="A proposed policy CSV instead.")] = None,
    tenant: TenantOpt = None,
) -> None:
    """What-if on the synthetic fixture: decision, matched rule, ownership and limit checks (JSON)."""
    settings = Settings()
    service = _service(settings, tenant)
    principal = parse_principal(as_, service.tenant)
    if principal.tenant != service.tenant:
        raise _fail(f"--as names tenant {principal.tenant!r}; this is tenant {service.tenant!r}'s policy.")
    try:
        arguments = json.loads(args)
        authorizer = service.authorizer(version=version, rules=_read_rules(file) if file else None)
        operator = Principal(principal.tenant, "admin", f"cli:{getpass.getuser()}")
        result = service.simulate(authorizer, principal, tool, arguments, by=operator)
    except (ValueError, CopilotError) as exc:
        raise _fail(str(exc)) from None
    typer.echo(json.dumps(result.to_dict(), indent=2))


@policy_app.command("history")
def history_cmd(
    limit: Annotated[int, typer.Option(help="Newest N versions.")] = 20, tenant: TenantOpt = None
) -> None:
    """Stored versions, newest first (the active one is marked)."""
    service = _service(Settings(), tenant)
    versions, total = service.store.history(limit=limit)
    active = service.store.active().version
    table = Table("version", "when", "author", "kind", "message", "+/-")
    for v in versions:
        mark = f"{v.version} *" if v.version == active else str(v.version)
        table.add_row(mark, v.created_at.isoformat(timespec="seconds"), v.author, v.kind, v.message,
                      f"+{len(v.diff.added)} -{len(v.diff.removed)}")  # fmt: skip
    console.print(table)
    console.print(f"{total} versions, active {active} (tenant {service.tenant!r})")


@policy_app.command("rollback")
def rollback_cmd(
    version: Annotated[int, typer.Argument(help="Version whose rules become active again.")],
    message: Annotated[str | None, typer.Option(help="Why (change log).")] = None,
    ack: Annotated[list[str] | None, typer.Option("--ack", help="Acknowledge a lint warning id.")] = None,
    tenant: TenantOpt = None,
) -> None:
    """Activate an old version's rules as a new version (validated and tested like any change)."""
    service = _service(Settings(), tenant)
    active = service.store.active()
    try:
        new = service.rollback(version, author=f"cli:{getpass.getuser()}", if_match=active.etag,
                               acknowledge=ack or [], message=message)  # fmt: skip
    except CopilotError as exc:
        raise _fail(f"{exc.code.value}: {exc.message}") from None
    typer.echo(f"version {new.version} is active (rules of version {version})")


@policy_app.command("show")
def show_cmd(
    version: Annotated[int | None, typer.Option(help="A stored version (default: active).")] = None,
    tenant: TenantOpt = None,
) -> None:
    """A tenant's policy as CSV (policies/policy.csv format): the active version, or --version."""
    service = _service(Settings(), tenant)
    chosen = service.store.get(version) if version is not None else service.store.active()
    typer.echo(f"# tenant {service.tenant}, version {chosen.version} ({chosen.author}: {chosen.message})")
    for rule in chosen.rules:
        typer.echo(", ".join(rule))


@policy_app.command("apply")
def apply_cmd(
    file: Annotated[Path, typer.Argument(help="Policy CSV to activate as a new version.")],
    message: Annotated[str, typer.Option(help="Why (change log).")],
    ack: Annotated[list[str] | None, typer.Option("--ack", help="Acknowledge a lint warning id.")] = None,
    tenant: TenantOpt = None,
) -> None:
    """Save FILE as a tenant's new active version: linted and run against that tenant's policy tests first."""
    service = _service(Settings(), tenant)
    active = service.store.active()
    try:
        new = service.save(_read_rules(file), author=f"cli:{getpass.getuser()}", message=message,
                           if_match=active.etag, acknowledge=ack or [])  # fmt: skip
    except CopilotError as exc:
        raise _fail(f"{exc.code.value}: {exc.message}") from None
    typer.echo(f"tenant {service.tenant!r}: version {new.version} is active")
