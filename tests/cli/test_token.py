"""`copilot token`: round trip through the same secret the server uses."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import jwt
import pytest
import typer
from typer.testing import CliRunner

from copilot.auth import resolve_secret, verify_token
from copilot.cli.main import app
from copilot.cli.token import parse_ttl
from copilot.principal import Principal
from copilot.settings import Settings
from copilot.tenants import PLATFORM_TENANT

runner = CliRunner()


def test_token_round_trip_with_generated_dev_secret(tmp_path: Path) -> None:
    env = {"COPILOT_DATA_DIR": str(tmp_path), "COPILOT_ENV": "development", "COPILOT_SECRET": ""}
    result = runner.invoke(app, ["token", "--role", "agent", "--user", "ann", "--tenant", "acme"], env=env)
    assert result.exit_code == 0, result.output
    secret = resolve_secret(Settings(data_dir=tmp_path, secret=None))  # the file the CLI generated
    assert verify_token(secret, result.stdout.strip()) == Principal(
        tenant="acme", role="agent", user_id="ann"
    )


def test_token_default_tenant_and_configured_secret(tmp_path: Path) -> None:
    env = {"COPILOT_DATA_DIR": str(tmp_path), "COPILOT_SECRET": "k" * 64}
    result = runner.invoke(app, ["token", "--role", "customer", "--user", "u1", "--ttl", "5m"], env=env)
    assert result.exit_code == 0, result.output
    assert verify_token("k" * 64, result.stdout.strip()) == Principal("demo", "customer", "u1")
    assert not (tmp_path / "secret").exists()


def test_a_platform_token_belongs_to_no_tenant(tmp_path: Path) -> None:
    env = {"COPILOT_DATA_DIR": str(tmp_path), "COPILOT_SECRET": "k" * 64}
    result = runner.invoke(app, ["token", "--role", "platform", "--user", "root"], env=env)
    assert result.exit_code == 0, result.output
    assert verify_token("k" * 64, result.stdout.strip()) == Principal(PLATFORM_TENANT, "platform", "root")
    refused = runner.invoke(
        app, ["token", "--role", "platform", "--user", "root", "--tenant", "acme"], env=env
    )
    assert refused.exit_code != 0 and "no tenant" in refused.output


@pytest.mark.parametrize(
    "args", [["--role", "root", "--user", "u"], ["--role", "customer", "--user", "u", "--ttl", "0"]]
)
def test_token_rejects_bad_options(tmp_path: Path, args: list[str]) -> None:
    result = runner.invoke(
        app, ["token", *args], env={"COPILOT_DATA_DIR": str(tmp_path), "COPILOT_SECRET": "k" * 64}
    )
    assert result.exit_code == 2
    assert not result.stdout.strip().startswith("ey")


def test_token_in_production_needs_a_secret(tmp_path: Path) -> None:
    env = {"COPILOT_DATA_DIR": str(tmp_path), "COPILOT_ENV": "production", "COPILOT_SECRET": ""}
    result = runner.invoke(app, ["token", "--role", "customer", "--user", "u1"], env=env)
    assert result.exit_code == 1
    assert "COPILOT_SECRET" in result.output


def test_parse_ttl() -> None:
    assert parse_ttl("90") == timedelta(seconds=90)
    assert parse_ttl("12h") == timedelta(hours=12)
    assert parse_ttl("7d") == timedelta(days=7)
    with pytest.raises(typer.BadParameter):
        parse_ttl("soon")


def test_tenant_key_is_printed_for_the_shop_and_signs_only_customers(tmp_path: Path) -> None:
    from copilot.auth import key_ring, mint_customer_token
    from copilot.errors import CopilotError

    env = {"COPILOT_DATA_DIR": str(tmp_path), "COPILOT_SECRET": "k" * 64}
    printed = runner.invoke(app, ["token", "--tenant-key", "--tenant", "acme"], env=env)
    assert printed.exit_code == 0, printed.output
    fields = dict(line.split(": ", 1) for line in printed.stdout.strip().splitlines())
    assert fields["tenant"] == "acme" and fields["kid"].startswith("t-acme-") and fields["key"] != "k" * 64
    ring = key_ring(Settings(data_dir=tmp_path, secret="k" * 64), "k" * 64)
    shop = mint_customer_token(fields["key"], "acme", "u9")
    assert verify_token(ring, shop) == Principal("acme", "customer", "u9")
    customer = runner.invoke(
        app, ["token", "--role", "customer", "--user", "u9", "--tenant", "acme"], env=env
    )
    assert verify_token(ring, customer.stdout.strip()) == Principal("acme", "customer", "u9")
    forged = jwt.encode(
        {**jwt.decode(shop, options={"verify_signature": False}), "role": "admin"},
        fields["key"], algorithm="HS256", headers={"kid": fields["kid"]},
    )  # fmt: skip
    with pytest.raises(CopilotError, match="only customer tokens"):
        verify_token(ring, forged)


def test_a_managed_tenant_has_no_key_to_print_and_says_what_to_do(tmp_path: Path) -> None:
    from copilot.auth import key_ring
    from copilot.keywrap import KeyWrap
    from copilot.store.database import make_engine
    from copilot.tenant_keys import TenantKeyStore

    secret = "k" * 64
    settings = Settings(data_dir=tmp_path, secret=secret)
    engine = make_engine(settings.resolved_database_url)
    store = TenantKeyStore(engine, KeyWrap(secret))
    store.create("acme", "ops")
    env = {"COPILOT_DATA_DIR": str(tmp_path), "COPILOT_SECRET": secret}
    printed = runner.invoke(app, ["token", "--tenant-key", "--tenant", "acme"], env=env)
    assert printed.exit_code == 1 and "key:" not in printed.stdout
    assert (
        "managed by the platform admin" in printed.output and "/v1/tenants/acme/keys/rotate" in printed.output
    )
    other = runner.invoke(app, ["token", "--tenant-key", "--tenant", "other"], env=env)
    assert other.exit_code == 0 and "kid: t-other-" in other.stdout  # an unmanaged tenant: its derived key
    customer = runner.invoke(
        app, ["token", "--role", "customer", "--user", "u9", "--tenant", "acme"], env=env
    )
    ring = key_ring(settings, secret, managed=store)
    assert verify_token(ring, customer.stdout.strip()) == Principal("acme", "customer", "u9")
    engine.dispose()
