"""Authorization stage: role, tenant, ownership (no existence leak), guest/admin, limits, fail-closed."""

from __future__ import annotations

import random

import pytest
from sqlalchemy import Engine, func, select

from copilot.gateway.authorizer import CALL, Scope
from copilot.gateway.casbin_authorizer import CasbinAuthorizer
from copilot.gateway.gateway import Gateway
from copilot.packs import Pack
from copilot.principal import Role
from copilot.store.schema import previews
from tests.gateway.conftest import Doc, who

CANCEL = {"order_id": "#W0000001", "reason": "no longer needed"}


def test_customer_reads_own_but_not_foreign_or_missing_with_the_same_message(gateway: Gateway) -> None:
    own = gateway.call(who("customer"), "get_order_details", {"order_id": "#W0000001"})
    foreign = gateway.call(who("customer"), "get_order_details", {"order_id": "#W0000002"})
    missing = gateway.call(who("customer"), "get_order_details", {"order_id": "#W7777777"})
    assert own.outcome == "executed" and own.result["user_id"] == "alice"
    assert (foreign.outcome, foreign.code) == ("denied", "denied")
    assert (missing.outcome, missing.code) == ("denied", "denied")
    assert foreign.message == missing.message
    assert foreign.result is None and "bob" not in str(foreign.for_model())


def test_customer_cannot_touch_another_users_profile(gateway: Gateway) -> None:
    assert gateway.call(who("customer"), "get_user_details", {"user_id": "alice"}).ok
    denied = gateway.call(who("customer"), "get_user_details", {"user_id": "BOB "})
    assert denied.outcome == "denied"


def test_foreign_payment_method_on_own_order_is_denied(gateway: Gateway, engine: Engine) -> None:
    args = {"order_id": "#W0000001", "amount": 5, "payment_method_id": "credit_card_2222222"}
    result = gateway.call(who("customer"), "return_delivered_order_items", args)
    assert result.outcome == "denied"
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(previews)).scalar_one() == 0


def test_every_element_of_an_owned_array_is_checked(gateway: Gateway, pack: Pack) -> None:
    spec = pack.tool("get_order_details").spec
    assert spec.owned == {"order_id": "order"}  # arrays are covered by check_ownership's element loop
    result = gateway.call(who("customer", "bob"), "cancel_pending_order", CANCEL)
    assert result.outcome == "denied"


def test_same_user_id_in_another_tenant_sees_nothing(gateway: Gateway) -> None:
    result = gateway.call(who("customer", "alice", "acme"), "get_order_details", {"order_id": "#W0000001"})
    assert result.outcome == "denied"


def test_staff_scope_is_the_tenant(gateway: Gateway) -> None:
    result = gateway.call(who("agent", "ann"), "get_order_details", {"order_id": "#W0000002"})
    assert result.outcome == "executed" and result.result["user_id"] == "bob"


def test_tenant_specific_deny_overrides_wildcard_allow(
    gateway: Gateway, authorizer: CasbinAuthorizer
) -> None:
    before = authorizer.version
    authorizer.add_policies("p", [["agent", "frozen", "*", "call", "deny"]])
    assert authorizer.version != before
    frozen = gateway.call(who("agent", "ann", "frozen"), "calculate", {"quantity": 1})
    demo = gateway.call(who("agent", "ann", "demo"), "calculate", {"quantity": 1})
    assert (frozen.outcome, demo.outcome) == ("denied", "executed")


@pytest.mark.parametrize("tool", ["get_order_details", "get_user_details", "cancel_pending_order"])
def test_guest_has_no_account_tools(gateway: Gateway, tool: str) -> None:
    result = gateway.call(who("guest", "anon"), tool, {"order_id": "#W0000001"})
    assert (result.outcome, result.code) == ("denied", "denied")


def test_admin_has_no_customer_data_by_default(gateway: Gateway, authorizer: CasbinAuthorizer) -> None:
    result = gateway.call(who("admin", "root"), "get_order_details", {"order_id": "#W0000001"})
    assert result.outcome == "denied"
    assert authorizer.allows("admin", "demo", "policy", "manage")
    assert not authorizer.allows("agent", "demo", "policy", "manage")


@pytest.mark.parametrize(
    ("role", "scope", "limit"),
    [("guest", "none", 0), ("customer", "own", 10000), ("agent", "tenant", 5000),
     ("supervisor", "tenant", 25000), ("admin", "none", 0)],
)  # fmt: skip
def test_scopes_and_limits_are_policy_data(
    authorizer: CasbinAuthorizer, role: Role, scope: Scope, limit: float
) -> None:
    assert authorizer.scope(role, "demo") == scope
    assert authorizer.limit(role, "demo", "max_refund") == limit


def test_limits_per_role(gateway: Gateway, order: Doc) -> None:
    big = {"order_id": "#W0000003", "amount": 6000, "payment_method_id": "gift_card_1111111"}
    agent = gateway.call(who("agent", "ann"), "return_delivered_order_items", big)
    supervisor = gateway.call(who("supervisor", "sue"), "return_delivered_order_items", big)
    assert (agent.outcome, agent.code) == ("denied", "limit_exceeded")
    assert "5000.00" in (agent.message or "")
    assert supervisor.outcome == "preview" and supervisor.preview is not None
    assert supervisor.preview.amount == 6000
    assert "refunded" not in order("#W0000003")


def test_missing_policy_data_fails_closed(tmp_path: object, authorizer: CasbinAuthorizer) -> None:
    assert authorizer.scope("intruder", "demo") == "none"
    assert authorizer.limit("intruder", "demo", "max_refund") == 0.0
    assert not authorizer.allows("intruder", "demo", "get_order_details")


def test_cached_decisions_equal_raw_enforce_at_10k_rules(authorizer: CasbinAuthorizer) -> None:
    rng = random.Random(7)
    tools = [
        "get_order_details",
        "cancel_pending_order",
        "calculate",
        "get_user_details",
        "list_all_product_types",
    ]
    rows = [[f"role{i % 400}", f"tenant{i % 25}", f"{rng.choice(tools)}", CALL, rng.choice(["allow", "deny"])]
            for i in range(10_000)]  # fmt: skip
    authorizer.add_policies("p", rows)
    requests = [
        (f"role{rng.randrange(450)}", f"tenant{rng.randrange(30)}", rng.choice(tools)) for _ in range(30)
    ]
    requests += [("customer", "demo", t) for t in tools] + [("admin", "tenant3", t) for t in tools]
    for role, tenant, tool in requests:
        raw = authorizer.enforce_uncached(role, tenant, tool)
        assert authorizer.allows(role, tenant, tool) == raw
        assert authorizer.allows(role, tenant, tool) == raw  # served from the cache
    assert any(authorizer.allows(r, t, o) for r, t, o in requests)
    assert not all(authorizer.allows(r, t, o) for r, t, o in requests)
