"""Helpers for the real-system handoff tests: an app over open_runtime (offline model, demo store)."""

from __future__ import annotations

import asyncio
from typing import Any

import httpx
from sqlalchemy import select, update

from copilot.runtime import Runtime
from copilot.store.schema import documents
from tests.api.support import Sse, parse_sse

CUSTOMER_ID = "demo_customer_0001"
PENDING = "#W0000001"


async def events(client: httpx.AsyncClient, cid: str, headers: dict[str, str], after: int = 0) -> list[Sse]:
    response = await client.get(f"/v1/conversations/{cid}/events?follow=false&after={after}", headers=headers)
    assert response.status_code == 200, response.text
    return parse_sse(response.text)


async def say(
    client: httpx.AsyncClient, runtime: Runtime, cid: str, headers: dict[str, str], text: str
) -> list[Sse]:
    """Post a customer message and return the events it produced (after the bot's turn, if any)."""
    before = await events(client, cid, headers)
    response = await client.post(f"/v1/conversations/{cid}/messages", json={"text": text}, headers=headers)
    assert response.status_code == 202, response.text
    await runtime.turns.wait_idle(cid)
    await asyncio.sleep(0)
    return await events(client, cid, headers, before[-1].id if before else 0)


def order(runtime: Runtime, order_id: str) -> dict[str, Any]:
    with runtime.engine.connect() as conn:
        data: dict[str, Any] = conn.execute(
            select(documents.c.data).where(documents.c.kind == "order", documents.c.id == order_id)
        ).scalar_one()
    return data


def set_paid(runtime: Runtime, order_id: str, amount: float) -> None:
    """Make the order's payment large (an over-limit refund on cancel)."""
    data = order(runtime, order_id)
    for payment in data["payment_history"]:
        payment["amount"] = amount
    with runtime.engine.begin() as conn:
        conn.execute(
            update(documents).where(documents.c.kind == "order", documents.c.id == order_id).values(data=data)
        )
