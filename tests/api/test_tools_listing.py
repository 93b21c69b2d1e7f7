"""GET /v1/tools over HTTP with the real system (retail pack, Casbin policy, gateway): each role sees exactly the
tools the policy lets it call; `all=true` is for policy administrators only."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest

from copilot.api.app import create_app
from copilot.llm.scripted import ScriptedChatModel
from copilot.principal import Role
from copilot.runtime import open_runtime
from copilot.settings import Settings
from tests.api.support import SECRET, token

CATALOGUE = {
    "list_all_product_types",
    "get_product_details",
    "get_item_details",
    "calculate",
    "transfer_to_human_agents",
}


@pytest.fixture
async def client(tmp_path: Path) -> AsyncIterator[httpx.AsyncClient]:
    settings = Settings(data_dir=tmp_path, secret=SECRET)
    async with open_runtime(settings, model=ScriptedChatModel(script=[])) as runtime:
        app = create_app(settings, runtime=runtime)
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
            yield http


async def _tools(client: httpx.AsyncClient, role: Role, query: str = "") -> dict[str, Any]:
    response = await client.get(f"/v1/tools{query}", headers=token(role, f"{role}_user_0001"))
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def _names(body: dict[str, Any]) -> set[str]:
    return {tool["name"] for tool in body["tools"]}


async def test_each_role_sees_the_tools_its_policy_allows(client: httpx.AsyncClient) -> None:
    agent = await _tools(client, "agent")
    assert len(agent["tools"]) == 16 and agent["all"] is False and agent["policy_version"]
    by_name = {tool["name"]: tool for tool in agent["tools"]}
    details = by_name["get_order_details"]
    assert details["side_effect"] == "read" and details["description"]
    assert details["parameters"]["required"] == ["order_id"]
    jsonschema.Draft202012Validator.check_schema(details["parameters"])
    assert by_name["cancel_pending_order"]["side_effect"] == "write"

    customer = _names(await _tools(client, "customer"))
    assert not {n for n in customer if n.startswith("find_user_id_")}  # explicit deny wins
    assert {"get_order_details", "cancel_pending_order", "get_user_details"} <= customer

    assert _names(await _tools(client, "guest")) == CATALOGUE
    assert _names(await _tools(client, "supervisor")) == set(by_name)  # inherits the agent's rules


async def test_all_tools_is_for_policy_administrators_only(client: httpx.AsyncClient) -> None:
    admin_own = _names(await _tools(client, "admin"))
    assert admin_own == CATALOGUE  # the admin role may not touch customer data
    every = await _tools(client, "admin", "?all=true")
    assert every["all"] is True and len(every["tools"]) == 16

    refused = await client.get("/v1/tools?all=true", headers=token("agent", "alice"))
    assert refused.status_code == 403
    assert refused.json()["error"]["code"] == "forbidden"
    assert "all=true" in refused.json()["error"]["message"]


async def test_unauthenticated_is_401_and_the_route_is_documented(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/tools")
    assert response.status_code == 401
    assert response.json()["error"]["code"] == "unauthenticated"
    bad = await client.get("/v1/tools", headers={"Authorization": "Bearer not-a-token"})
    assert bad.status_code == 401

    spec = (await client.get("/openapi.json")).json()
    operation = spec["paths"]["/v1/tools"]["get"]
    assert {"200", "401", "403"} <= set(operation["responses"])
    assert [p["name"] for p in operation["parameters"]] == ["all"]
    schemas = spec["components"]["schemas"]
    assert {"ToolList", "ToolInfo"} <= set(schemas)
    assert set(schemas["ToolInfo"]["properties"]) == {"name", "description", "side_effect", "parameters"}
