"""What each principal's model calls carry, seen on the wire: only the tools its policy allows, the pack's
domain policy and tone, write tools that leave the confirmation to the preview, and the prompt's cost."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from copilot.llm.testing import Reply, Script
from copilot.packs import load_pack
from copilot.settings import Settings
from tests.llm.wire.conversation import Chat, completed, copilot_on

CUSTOMER_TOOLS = {
    "list_all_product_types", "get_product_details", "get_item_details", "calculate", "transfer_to_human_agents",
    "get_user_details", "get_order_details", "cancel_pending_order", "modify_pending_order_items",
    "modify_pending_order_address", "modify_pending_order_payment", "modify_user_address",
    "return_delivered_order_items", "exchange_delivered_order_items",
}  # fmt: skip
GUEST_TOOLS = {"list_all_product_types", "get_product_details", "get_item_details", "calculate",
               "transfer_to_human_agents"}  # fmt: skip


async def test_each_principal_sees_its_own_tools_and_the_packs_policy(tmp_path: Path) -> None:
    script = Script([Reply(text="Hello!"), Reply(text="Hi guest!")])
    with copilot_on(tmp_path, script) as (base, model):
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            health = (await client.get("/healthz")).json()
            assert completed(await (await Chat(client).start()).say("hello")) == "completed"
            guest = (await client.post("/v1/sessions/guest")).json()["token"]
            chat = Chat(client)
            chat.headers = {"Authorization": f"Bearer {guest}"}
            assert completed(await (await chat.start()).say("hello")) == "completed"
    customer_call, guest_call = model.log.requests
    assert set(customer_call.tool_names) == CUSTOMER_TOOLS  # find_user_id_* are denied to customers
    assert set(guest_call.tool_names) == GUEST_TOOLS
    system = str(customer_call.messages[0]["content"])
    assert "<policy>" in system and "Demo shop policy" in system and "Tone: Warm, brief" in system
    assert "the preview is the confirmation" in " ".join(system.split())
    assert 0 < health["prompt_tokens"]["guest"] < health["prompt_tokens"]["customer"]
    estimated = customer_call.estimated_tokens() - len(system[system.index("<context>") :]) // 4
    assert (
        abs(health["prompt_tokens"]["customer"] - estimated) < 0.25 * estimated
    )  # the reported cost is real


def test_write_tools_leave_the_confirmation_to_the_preview() -> None:
    pack = load_pack(Settings().pack_path)
    writes = [
        t.spec
        for t in pack.tools
        if t.spec.side_effect == "write" and t.spec.name != "transfer_to_human_agents"
    ]
    assert len(writes) == 7
    for spec in writes:
        assert "preview" in spec.description, spec.name
    assert not [t.spec.name for t in pack.tools if "(yes)" in t.spec.description]


@pytest.mark.shared
def test_a_tau2_store_brings_its_own_policy(shared_data: Path) -> None:
    pack = load_pack(Settings().pack_path)
    assert pack.domain_policy is not None
    db = shared_data / "tau2-retail" / "db.json"
    assert pack.domain_policy(db) == db.parent / "policy.md"
    own = pack.domain_policy(None)
    assert own is not None and own.parent == Settings().pack_path
