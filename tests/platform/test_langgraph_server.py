"""`langgraph dev` (langgraph-cli[inmem]) serves langgraph.json as shipped, without --allow-blocking: the
copilot's bearer tokens authenticate, threads belong to their creator, and a confirmation resumes through the
same Gateway.decide as the copilot's API (the write executes once, for the right principal only). Driven with
langgraph-sdk against a real server process."""

from __future__ import annotations

import os
import subprocess
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from langgraph_sdk import get_client
from langgraph_sdk.client import LangGraphClient
from sqlalchemy import select

from copilot.auth import mint_token
from copilot.principal import Principal
from copilot.serverprocess import free_port, wait_ready
from copilot.settings import PROJECT_ROOT
from copilot.store.database import make_engine
from copilot.store.schema import audit_log, documents

from .server_env import langgraph_command

SECRET = "s" * 48
ALEX = Principal("demo", "customer", "demo_customer_0001")
SAM = Principal("demo", "customer", "demo_customer_0002")
STARTUP_SECONDS = 90


@dataclass
class Server:
    url: str
    data_dir: Path


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Server]:
    work = tmp_path_factory.mktemp("langgraph")
    port, log = free_port(), work / "server.log"
    env = {**os.environ, "COPILOT_DATA_DIR": str(work / "data"), "COPILOT_SECRET": SECRET}
    command = [*langgraph_command(), "dev", "--config", str(PROJECT_ROOT / "langgraph.json"),
               "--port", str(port), "--no-browser", "--no-reload"]  # fmt: skip
    with log.open("wb") as out:  # from the project root, as a developer runs it (paths are relative to it)
        process = subprocess.Popen(command, cwd=PROJECT_ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        wait_ready(url, process, log, path="/ok", timeout=STARTUP_SECONDS, interval=0.3, name="langgraph dev")
        yield Server(url, work / "data")
        assert "BlockingError" not in log.read_text()
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


@pytest.fixture
async def clients(server: Server) -> AsyncIterator[tuple[LangGraphClient, LangGraphClient]]:
    def client(principal: Principal) -> LangGraphClient:
        token = mint_token(SECRET, principal)
        return get_client(url=server.url, headers={"Authorization": f"Bearer {token}"})

    alex, sam = client(ALEX), client(SAM)
    yield alex, sam
    await alex.aclose()
    await sam.aclose()


def _say(text: str) -> dict[str, Any]:
    return {"messages": [{"role": "user", "content": text}]}


def _last_text(result: Any) -> str:
    return str(result["messages"][-1]["content"])


async def test_requests_without_a_valid_token_are_refused(server: Server) -> None:
    for headers in ({}, {"Authorization": "Bearer not-a-token"}):
        client = get_client(url=server.url, headers=headers)
        with pytest.raises(httpx.HTTPStatusError) as caught:
            await client.threads.create()
        assert caught.value.response.status_code == 401
        await client.aclose()


async def test_a_customer_reads_their_order_through_the_graph(
    clients: tuple[LangGraphClient, LangGraphClient],
) -> None:
    alex, sam = clients
    thread = await alex.threads.create()
    result = await alex.runs.wait(thread["thread_id"], "support", input=_say("where is my order #W0000002?"))
    assert "Order #W0000002 is delivered" in _last_text(result)
    with pytest.raises(httpx.HTTPStatusError) as caught:  # another customer cannot see the thread
        await sam.threads.get_state(thread["thread_id"])
    assert caught.value.response.status_code == 404


async def test_a_confirmation_resumes_through_the_gateway_decision(
    server: Server, clients: tuple[LangGraphClient, LangGraphClient]
) -> None:
    alex, sam = clients
    thread_id = (await alex.threads.create())["thread_id"]
    await alex.runs.wait(
        thread_id, "support", input=_say("please cancel order #W0000001, I ordered it by mistake")
    )
    state = await alex.threads.get_state(thread_id)
    preview = state["interrupts"][0]["value"]["preview"]
    assert preview["tool"] == "cancel_pending_order"
    approve = {"preview_id": preview["preview_id"], "approved": True}

    for client, resume, status in (
        (sam, approve, 409),  # not Sam's preview (nor thread)
        (alex, {"preview_id": "nope", "approved": True}, 409),  # not this thread's preview
        (alex, {"preview_id": preview["preview_id"]}, 422),  # no decision
    ):
        with pytest.raises(httpx.HTTPStatusError) as caught:
            await client.runs.wait(thread_id, "support", command={"resume": resume})
        assert caught.value.response.status_code == status, caught.value.response.text
    assert _order_status(server, "#W0000001") == "pending"

    result = await alex.runs.wait(thread_id, "support", command={"resume": approve})
    assert "cancelled" in _last_text(result)
    assert _order_status(server, "#W0000001") == "cancelled"
    assert _audit(server, "cancel_pending_order") == [  # the API's protocol: preview, decision, one execute
        ("preview", ALEX.label()), ("confirm", ALEX.label()), ("execute", ALEX.label()),
    ]  # fmt: skip
    with pytest.raises(httpx.HTTPStatusError) as caught:  # decided and used: a second resume is refused
        await alex.runs.wait(thread_id, "support", command={"resume": {**approve, "approved": False}})
    assert caught.value.response.status_code == 409


def _order_status(server: Server, order_id: str) -> str:
    engine = make_engine(f"sqlite:///{server.data_dir / 'copilot.db'}")
    try:
        with engine.connect() as conn:
            data = conn.execute(select(documents.c.data).where(documents.c.id == order_id)).scalar_one()
        return str(data["status"])
    finally:
        engine.dispose()


def _audit(server: Server, tool: str) -> list[tuple[str, str]]:
    engine = make_engine(f"sqlite:///{server.data_dir / 'copilot.db'}")
    query = select(audit_log.c.outcome, audit_log.c.principal).where(audit_log.c.tool == tool)
    try:
        with engine.connect() as conn:
            return [
                (outcome, principal) for outcome, principal in conn.execute(query.order_by(audit_log.c.seq))
            ]
    finally:
        engine.dispose()
