"""Issue 7's reproduction through the graph: a model that reuses one tool-call id for different changes
(address X, then Y, then X again) gets each confirmed change executed for real, and every tool.executed
reports what the store now holds — never an older change replayed from the ledger."""

from __future__ import annotations

from langchain_core.messages import AIMessage

from copilot.store.documents import DocumentStore
from tests.agent.conftest import MakeHarness, call
from tests.agent.world import CUSTOMER, PENDING

X = {
    "address1": "1 X Street",
    "address2": "",
    "city": "Xville",
    "state": "CA",
    "country": "USA",
    "zip": "94107",
}
Y = {**X, "address1": "2 Y Avenue", "city": "Ytown"}


def change(address: dict[str, str]) -> AIMessage:
    return call("modify_pending_order_address", "call_same", order_id=PENDING, **address)


async def test_a_reused_call_id_never_replays_another_change(harness: MakeHarness) -> None:
    addresses = (X, Y, X)
    script = [m for a in addresses for m in (change(a), AIMessage(content="Your address is updated."))]
    h = harness(*script)
    for n, address in enumerate(addresses):
        sink = await h.say(f"Please ship order {PENDING} to {address['address1']}", turn_id=f"say{n}")
        preview_id = str(sink.of("tool.preview")[0]["preview_id"])
        h.world.gateway.decide(CUSTOMER, preview_id, approve=True)
        executed = (await h.resume(preview_id, approved=True, turn_id=f"resume{n}")).of("tool.executed")
        assert [e["call_id"] for e in executed] == ["call_same"]
        with h.world.engine.connect() as conn:
            stored = DocumentStore(conn, "demo").get("order", PENDING)
        assert stored is not None and executed[0]["result"]["address"] == address == stored["address"]
    assert h.world.executions() == 3
