"""Each tenant has its own policy tests (real server over HTTP, and the CLI on the same database): a tenant's
admin lists and replaces its own suites; every save of that tenant's policy must pass them, another tenant's
saves are not held to them; the platform's invariant suites run for everyone and no tenant can replace them;
`copilot policy test|show|apply --tenant T` works on one tenant's policy and tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from typer.testing import CliRunner

from copilot.api.app import create_app
from copilot.cli.main import app as cli_app
from copilot.settings import Settings
from copilot.tenants import PLATFORM_TENANT
from tests.api.support import SECRET, token
from tests.web.conftest import serve

PLATFORM = token("platform", "root", tenant=PLATFORM_TENANT)
SHOP_ADMIN, DEMO_ADMIN = token("admin", "ada", tenant="shop"), token("admin", "root")
CANCEL = ("p", "customer", "*", "cancel_pending_order", "call", "allow")
KEEP_CANCEL = (
    "name: self-service cancels\ncases:\n  - {role: customer, tool: cancel_pending_order, expect: allow}\n"
)
NO_CANCEL = KEEP_CANCEL.replace("allow", "deny")


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return Path(tmp_path_factory.mktemp("tenant-tests"))


@pytest.fixture(scope="module")
def http(data_dir: Path) -> Iterator[httpx.Client]:
    settings = Settings(data_dir=data_dir, secret=SECRET, env="development")
    with serve(create_app(settings)) as url, httpx.Client(base_url=url, timeout=30) as client:
        assert client.post("/v1/tenants", json={"tenant": "shop"}, headers=PLATFORM).status_code == 201
        yield client


def put_tests(http: httpx.Client, headers: dict[str, str], **files: str) -> httpx.Response:
    suites = [{"file": name.replace("_", "-") + ".yaml", "text": text} for name, text in files.items()]
    return http.put("/v1/policy/tests", json={"suites": suites}, headers=headers)


def save_without_cancel(http: httpx.Client, headers: dict[str, str]) -> httpx.Response:
    current = http.get("/v1/policy", headers=headers)
    rules = [r for r in current.json()["rules"] if tuple(r) != CANCEL]
    return http.put("/v1/policy", headers={**headers, "If-Match": current.headers["ETag"]},
                    json={"rules": rules, "message": "no self-service cancels"})  # fmt: skip


def files(body: dict[str, Any], part: str) -> list[str]:
    return [s["file"] for s in body[part]]


def test_a_tenants_tests_hold_its_saves_only(http: httpx.Client) -> None:
    seeded = http.get("/v1/policy/tests", headers=SHOP_ADMIN).json()
    assert seeded["tenant"] == "shop" and files(seeded, "platform") == ["invariants.yaml"]
    assert (
        files(seeded, "suites") == ["decisions.yaml", "scopes_and_limits.yaml"] and not seeded["customized"]
    )
    assert seeded["results"]["passed"] and seeded["results"]["total"] >= 60

    refused = put_tests(http, SHOP_ADMIN, no_cancel=NO_CANCEL)  # the active policy fails it: not saved
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "policy_tests_failed", (
        refused.text
    )
    assert "no-cancel.yaml" in refused.json()["error"]["message"]
    saved = put_tests(http, SHOP_ADMIN, keep_cancel=KEEP_CANCEL)
    assert saved.status_code == 200 and files(saved.json(), "suites") == ["keep-cancel.yaml"], saved.text
    assert saved.json()["updated_by"] == "admin:ada@shop"

    blocked = save_without_cancel(http, SHOP_ADMIN)
    assert blocked.status_code == 422 and blocked.json()["error"]["code"] == "policy_tests_failed"
    assert (
        "keep-cancel.yaml" in blocked.json()["error"]["message"]
        and "'shop'" in blocked.json()["error"]["message"]
    )
    demo = http.get("/v1/policy/tests", headers=DEMO_ADMIN).json()  # demo keeps the seed's suites
    assert "keep-cancel.yaml" not in files(demo, "suites") and not demo["customized"]
    assert save_without_cancel(http, DEMO_ADMIN).status_code == 200  # not held to shop's tests


def test_platform_suites_and_bad_suites_are_refused(http: httpx.Client) -> None:
    invariants = "name: mine\ncases:\n  - {role: guest, tool: get_user_details, expect: allow}\n"
    replaced = put_tests(http, SHOP_ADMIN, invariants=invariants)
    assert replaced.status_code == 400 and "platform suite" in replaced.json()["error"]["message"]
    broken = put_tests(http, SHOP_ADMIN, broken="cases: [{tool: x}]\n")
    assert broken.status_code == 400 and "broken.yaml" in broken.json()["error"]["message"]
    for who in (token("supervisor", "sam", tenant="shop"), token("customer", "c1", tenant="shop"), PLATFORM):
        assert http.get("/v1/policy/tests", headers=who).status_code == 403


def test_the_cli_works_on_one_tenant(http: httpx.Client, data_dir: Path, tmp_path: Path,
                                     monkeypatch: pytest.MonkeyPatch) -> None:  # fmt: skip
    assert put_tests(http, SHOP_ADMIN, keep_cancel=KEEP_CANCEL).status_code == 200
    monkeypatch.setenv("COPILOT_DATA_DIR", str(data_dir))
    monkeypatch.setenv("COPILOT_SECRET", SECRET)
    cli = CliRunner()
    passed = cli.invoke(cli_app, ["policy", "test", "--tenant", "shop", "-v"])
    assert passed.exit_code == 0 and "keep-cancel.yaml: PASS" in passed.output, passed.output
    shown = cli.invoke(cli_app, ["policy", "show", "--tenant", "shop"])
    assert shown.exit_code == 0 and shown.output.startswith("# tenant shop, version 1"), shown.output
    assert ", ".join(CANCEL) in shown.output
    proposed = tmp_path / "no-cancel.csv"
    proposed.write_text(
        "\n".join(line for line in shown.output.splitlines()[1:] if line != ", ".join(CANCEL))
    )
    failing = cli.invoke(cli_app, ["policy", "test", "--tenant", "shop", "--file", str(proposed)])
    assert failing.exit_code == 1 and "keep-cancel.yaml: FAIL" in failing.output, failing.output
    applied = cli.invoke(cli_app, ["policy", "apply", str(proposed), "--tenant", "shop", "--message", "x"])
    assert applied.exit_code == 1 and "policy_tests_failed" in applied.output, applied.output
    ok = cli.invoke(cli_app, ["policy", "apply", str(proposed), "--tenant", "demo", "--message", "x"])
    assert ok.exit_code == 0 and "tenant 'demo': version" in ok.output, ok.output
    history = cli.invoke(cli_app, ["policy", "history", "--tenant", "shop"])
    assert "active 1 (tenant 'shop')" in history.output, history.output
    missing = cli.invoke(cli_app, ["policy", "show", "--tenant", "nope"])
    assert missing.exit_code == 1 and "no tenant 'nope'" in missing.output
