"""Per-tenant policy over real HTTP (a uvicorn server). Regression: on 746edb1 `p, admin, *, policy, manage`
met one global policy store, so an admin of tenant `acme` removed `get_order_details` from `demo`'s customers.
Now each tenant has its own versions, history, tests and simulator, and only the platform admin (a token no
tenant can mint into) creates tenants, seeded from policies/."""

from __future__ import annotations

import httpx
import pytest

from copilot.tenants import PLATFORM_TENANT
from tests.api.support import token

PLATFORM = token("platform", "root", tenant=PLATFORM_TENANT)
ACME_ADMIN = token("admin", "mallory", tenant="acme")
DEMO_ADMIN = token("admin", "ann", tenant="demo")
ORDER_READ = ["p", "customer", "*", "get_order_details", "call", "allow"]


def _tools(http: httpx.Client, tenant: str) -> set[str]:
    listed = http.get("/v1/tools", headers=token("customer", "demo_customer_0001", tenant=tenant))
    assert listed.status_code == 200, listed.text
    return {t["name"] for t in listed.json()["tools"]}


@pytest.fixture(scope="module")
def acme(server: str) -> dict[str, object]:
    with httpx.Client(base_url=server) as http:
        created = http.post("/v1/tenants", json={"tenant": "acme", "name": "Acme Inc."}, headers=PLATFORM)
    assert created.status_code == 201, created.text
    body: dict[str, object] = created.json()
    return body


def test_an_acme_admin_cannot_change_demos_policy(http: httpx.Client, acme: dict[str, object]) -> None:
    assert acme["policy_version"] == 1 and acme["created_by"] == f"platform:root@{PLATFORM_TENANT}"
    theirs = http.get("/v1/policy", headers=ACME_ADMIN)
    assert theirs.status_code == 200 and theirs.json()["tenant"] == "acme"
    rules = [r for r in theirs.json()["rules"] if r != ORDER_READ]
    saved = http.put(
        "/v1/policy", json={"rules": rules, "message": "no order reads"},
        headers={**ACME_ADMIN, "If-Match": theirs.headers["ETag"]},
    )  # fmt: skip
    assert saved.status_code == 200, saved.text
    assert saved.json()["version"] == 2 and saved.json()["author"] == "admin:mallory@acme"

    assert "get_order_details" not in _tools(http, "acme")  # acme's change applies to acme
    assert "get_order_details" in _tools(http, "demo")  # and to nobody else
    demo = http.get("/v1/policy", headers=DEMO_ADMIN).json()
    assert (demo["tenant"], demo["version"]) == ("demo", 1) and ORDER_READ in demo["rules"]
    history = http.get("/v1/policy/versions", headers=ACME_ADMIN).json()
    assert [v["version"] for v in history["versions"]] == [2, 1] and history["total"] == 2
    assert http.get("/v1/policy/versions", headers=DEMO_ADMIN).json()["total"] == 1


def test_a_tenant_policy_cannot_name_another_tenant(http: httpx.Client, acme: dict[str, object]) -> None:
    current = http.get("/v1/policy", headers=ACME_ADMIN)
    rows = [*current.json()["rules"], ["p", "customer", "demo", "get_order_details", "call", "deny"]]
    refused = http.put(
        "/v1/policy", json={"rules": rows, "message": "reach into demo"},
        headers={**ACME_ADMIN, "If-Match": current.headers["ETag"]},
    )  # fmt: skip
    assert refused.status_code == 422
    assert "foreign_tenant:demo" in [f["id"] for f in refused.json()["error"]["details"]["findings"]]
    platform_row = [*current.json()["rules"], ["p", "platform", "*", "policy", "manage", "allow"]]
    checked = http.post("/v1/policy/validate", json={"rules": platform_row}, headers=ACME_ADMIN).json()
    assert not checked["valid"] and "unknown_role:platform" in [f["id"] for f in checked["findings"]]
    sim = {"principal": {"role": "customer", "tenant": "demo"}, "tool": "get_order_details", "arguments": {}}
    assert http.post("/v1/policy/simulate", json=sim, headers=ACME_ADMIN).status_code == 403


def test_only_the_platform_admin_manages_tenants(http: httpx.Client, acme: dict[str, object]) -> None:
    for headers in (DEMO_ADMIN, ACME_ADMIN, token("platform", "root", tenant="demo")):
        assert http.get("/v1/tenants", headers=headers).status_code == 403
        assert http.post("/v1/tenants", json={"tenant": "evil"}, headers=headers).status_code == 403
    as_platform_tenant = token("admin", "root", tenant=PLATFORM_TENANT)
    assert http.get("/v1/policy", headers=as_platform_tenant).status_code == 403  # no policy there
    assert http.get("/v1/policy", headers=PLATFORM).status_code == 403  # not a tenant admin either
    listed = http.get("/v1/tenants", headers=PLATFORM).json()["tenants"]
    assert [t["tenant"] for t in listed] == ["acme", "demo"] and all(t["policy_version"] >= 1 for t in listed)
    assert http.post("/v1/tenants", json={"tenant": "acme"}, headers=PLATFORM).status_code == 409
    for bad in (PLATFORM_TENANT, "Acme", "a b", ""):
        assert http.post("/v1/tenants", json={"tenant": bad}, headers=PLATFORM).status_code == 422
    assert http.get("/v1/tenants/nope", headers=PLATFORM).status_code == 404


def test_an_unregistered_tenant_gets_no_policy(http: httpx.Client) -> None:
    assert _tools(http, "ghost") == set()  # fail closed: no policy, no tools
    assert http.get("/v1/policy", headers=token("admin", "x", tenant="ghost")).status_code == 403
