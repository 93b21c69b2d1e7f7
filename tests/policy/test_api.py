"""The policy admin API over a real FastAPI app (httpx ASGI), real SQLite, real Casbin."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest
from fastapi import FastAPI
from sqlalchemy import Engine

from copilot.api.app import create_app
from copilot.gateway.gateway import Gateway
from copilot.packs import Pack
from copilot.policy.reload import LiveAuthorizer
from copilot.principal import Principal
from copilot.runtime import Runtime, assemble
from copilot.settings import Settings
from tests.api.support import SECRET, OnceDecider, ScriptedRunner, token

from .conftest import CUSTOMER_CANCEL, pending_order

ADMIN = token("admin", "ann")


@pytest.fixture
async def runtime(engine: Engine, tmp_path: Path) -> AsyncIterator[Runtime]:
    settings = Settings(data_dir=tmp_path / "data", secret=SECRET, env="development")
    built = assemble(settings, runner=ScriptedRunner(), decider=OnceDecider(), engine=engine)
    yield built
    await built.turns.aclose()


@pytest.fixture
async def client(runtime: Runtime) -> AsyncIterator[httpx.AsyncClient]:
    app: FastAPI = create_app(runtime.settings, runtime=runtime)
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test") as http:
        yield http


ROUTES = [
    ("GET", "/v1/policy"), ("GET", "/v1/policy/versions"), ("GET", "/v1/policy/versions/1"),
    ("GET", "/v1/policy/changes"), ("GET", "/v1/audit"), ("POST", "/v1/policy/validate"),
    ("POST", "/v1/policy/simulate"), ("POST", "/v1/policy/diff-decisions"), ("PUT", "/v1/policy"),
    ("POST", "/v1/policy/rollback"),
]  # fmt: skip


@pytest.mark.parametrize("role", ["guest", "customer", "agent", "supervisor"])
async def test_only_admins_may_use_the_policy_api(client: httpx.AsyncClient, role: str) -> None:
    for method, path in ROUTES:
        response = await client.request(method, path, headers=token(role, "u"), json={})  # type: ignore[arg-type]
        assert response.status_code == 403, (method, path)
        assert response.json()["error"]["code"] == "forbidden"
    assert (await client.get("/v1/policy")).status_code == 401


async def test_edit_flow_with_etags_conflicts_validation_and_rollback(client: httpx.AsyncClient) -> None:
    got = await client.get("/v1/policy", headers=ADMIN)
    body = got.json()
    etag = got.headers["ETag"]
    assert body["version"] == 1 and body["etag"] == etag
    customer = next(row for row in body["table"] if row["role"] == "customer")
    assert "cancel_pending_order" in customer["tools"] and customer["scope"] == "own"
    rules = [r for r in body["rules"] if tuple(r) != CUSTOMER_CANCEL]
    change = {"rules": rules, "message": "no self-service cancels"}

    missing = await client.put("/v1/policy", headers=ADMIN, json=change)
    assert missing.status_code == 428
    bad = await client.put("/v1/policy", headers={**ADMIN, "If-Match": etag},
                           json={**change, "rules": [*rules, ["p", "customer", "*", "nope", "call", "allow"]]})  # fmt: skip
    assert bad.status_code == 422 and bad.json()["error"]["code"] == "policy_invalid"
    assert (await client.get("/v1/policy", headers=ADMIN)).json()["version"] == 1

    saved = await client.put("/v1/policy", headers={**ADMIN, "If-Match": etag}, json=change)
    assert saved.status_code == 200 and saved.json()["version"] == 2
    assert saved.json()["author"] == "admin:ann@demo" and saved.json()["diff"]["removed"] == [
        list(CUSTOMER_CANCEL)
    ]
    stale = await client.put("/v1/policy", headers={**ADMIN, "If-Match": etag}, json=change)
    assert stale.status_code == 412 and stale.json()["error"]["code"] == "conflict"
    assert "now version 2" in stale.json()["error"]["message"]

    back = await client.post("/v1/policy/rollback", headers={**ADMIN, "If-Match": saved.headers["ETag"]},
                             json={"version": 1})  # fmt: skip
    assert back.status_code == 200 and back.json()["rollback_of"] == 1
    changes = (await client.get("/v1/policy/changes", headers=ADMIN)).json()
    assert [(c["version"], c["kind"], c["author"]) for c in changes["items"]] == [
        (3, "rollback", "admin:ann@demo"), (2, "change", "admin:ann@demo"), (1, "seed", "system:seed")]  # fmt: skip
    version = (await client.get("/v1/policy/versions/2", headers=ADMIN)).json()
    assert version["message"] == "no self-service cancels" and len(version["rules"]) == 41


async def test_wildcards_need_acknowledgement(client: httpx.AsyncClient) -> None:
    got = await client.get("/v1/policy", headers=ADMIN)
    rules = [*got.json()["rules"], ["p", "guest", "*", "*", "call", "allow"]]
    headers = {**ADMIN, "If-Match": got.headers["ETag"]}
    refused = await client.put("/v1/policy", headers=headers, json={"rules": rules, "message": "m"})
    assert refused.status_code == 422 and refused.json()["error"]["code"] == "policy_unacknowledged"
    ids = [w["id"] for w in refused.json()["error"]["details"]["warnings"]]
    assert ids == ["wildcard_tool:guest"]
    # guests calling everything breaks the invariants: acknowledged, it is still refused by the policy tests
    tested = await client.put(
        "/v1/policy", headers=headers, json={"rules": rules, "message": "m", "acknowledge": ids}
    )
    assert tested.status_code == 422 and tested.json()["error"]["code"] == "policy_tests_failed"
    assert tested.json()["error"]["details"]["failures"]


async def test_validate_simulate_and_diff(client: httpx.AsyncClient, engine: Engine) -> None:
    rules = [
        r
        for r in (await client.get("/v1/policy", headers=ADMIN)).json()["rules"]
        if tuple(r) != CUSTOMER_CANCEL
    ]
    checked = (await client.post("/v1/policy/validate", headers=ADMIN, json={"rules": rules})).json()
    assert checked["valid"] and checked["tests"]["passed"]
    assert [(c["role"], c["object"], c["after"]) for c in checked["decision_diff"]["changed"]] == [
        ("customer", "cancel_pending_order", "deny")]  # fmt: skip
    user, order = pending_order(engine)
    ask = {"principal": {"role": "customer", "user_id": user}, "tool": "cancel_pending_order",
           "arguments": {"order_id": order, "reason": "no longer needed"}}  # fmt: skip
    now = (await client.post("/v1/policy/simulate", headers=ADMIN, json=ask)).json()
    assert now["decision"] == "allow" and now["matched_rule"] == list(CUSTOMER_CANCEL[1:])
    assert now["ownership"]["passed"] and now["limit"]["passed"] and now["amount"] is not None
    proposed = (await client.post("/v1/policy/simulate", headers=ADMIN, json={**ask, "rules": rules})).json()
    assert proposed["decision"] == "deny" and proposed["permission"]["detail"].startswith("no rule allows")
    foreign = {**ask, "principal": {"role": "customer", "user_id": "someone_else"}}
    denied = (await client.post("/v1/policy/simulate", headers=ADMIN, json=foreign)).json()
    assert denied["decision"] == "deny" and denied["ownership"]["passed"] is False
    diff = (await client.post("/v1/policy/diff-decisions", headers=ADMIN, json={"rules": rules})).json()
    assert diff["samples"] == 5 * 17 and len(diff["changed"]) == 1


async def test_audit_is_filterable(
    client: httpx.AsyncClient, engine: Engine, pack: Pack, live: LiveAuthorizer
) -> None:
    gateway = Gateway(engine, pack, live)
    user, order = pending_order(engine)
    gateway.call(Principal("demo", "customer", user), "get_order_details", {"order_id": order},
                 conversation_id="conv9")  # fmt: skip
    gateway.call(Principal("demo", "guest", "g"), "get_order_details", {"order_id": order})
    page = (await client.get("/v1/audit", headers=ADMIN, params={"outcome": "deny"})).json()
    assert page["total"] == 1 and page["items"][0]["principal"] == "guest:g@demo"
    mine = (
        await client.get("/v1/audit", headers=ADMIN, params={"conversation_id": "conv9", "limit": 1})
    ).json()
    assert mine["total"] == 1 and mine["items"][0]["policy_version"].startswith("v1/")
    assert (await client.get("/v1/audit", headers=ADMIN, params={"tool": "get_order_details"})).json()[
        "total"
    ] == 2
