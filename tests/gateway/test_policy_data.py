"""The seed policy's decisions, written as data in policies/tests/decisions.csv, plus coverage of the pack."""

from __future__ import annotations

import pytest

from copilot.gateway.casbin_authorizer import CasbinAuthorizer
from copilot.packs import load_pack
from copilot.settings import PROJECT_ROOT

ROWS = [
    tuple(cell.strip() for cell in line.split(","))
    for line in (PROJECT_ROOT / "policies" / "tests" / "decisions.csv").read_text().splitlines()
    if line.strip() and not line.startswith("#")
]
PUBLIC = {
    "list_all_product_types",
    "get_product_details",
    "get_item_details",
    "calculate",
    "transfer_to_human_agents",
}


@pytest.mark.parametrize("row", ROWS, ids=["-".join(r[:3]) for r in ROWS])
def test_seed_policy_decision(authorizer: CasbinAuthorizer, row: tuple[str, ...]) -> None:
    role, tenant, obj, act, expected = row
    assert expected in ("allow", "deny")
    assert authorizer.allows(role, tenant, obj, act) is (expected == "allow")


def test_the_retail_pack_is_fully_covered(authorizer: CasbinAuthorizer) -> None:
    names = set(load_pack(PROJECT_ROOT / "tools" / "retail").tool_names())
    assert len(names) == 16 and names >= PUBLIC
    allowed = {role: {n for n in names if authorizer.allows(role, "demo", n)} for role in
               ("guest", "customer", "agent", "supervisor", "admin")}  # fmt: skip
    assert allowed["guest"] == PUBLIC == allowed["admin"]
    assert allowed["agent"] == allowed["supervisor"] == names
    assert allowed["customer"] == {n for n in names if not n.startswith("find_user_id_")}
