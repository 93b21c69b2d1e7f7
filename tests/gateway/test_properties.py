"""Properties of the gateway's defences, with hypothesis, on the real retail pack and the real Casbin model:

- identifier canonicalisation: any harmless spelling of an id (surrounding Unicode whitespace, case, a missing
  '#', full-width forms) canonicalises to the one id, and a customer's call then executes for their own order
  and is refused for anyone else's; any poisoned spelling (a confusable letter or digit from another script,
  an invisible or bidi character, inner whitespace) or any nesting (lists, objects) is invalid, never a lookup;
- argument validation: whatever JSON a model sends, the validator either refuses it as invalid_arguments or
  returns an object that passes the tool's schema strictly, with canonical identifiers (a fixed point);
- policy decisions: Casbin's decision equals a small reference model of the rules (deny wins over allow,
  keyMatch wildcards on tenant, tool and action, role inheritance per tenant)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jsonschema import Draft202012Validator
from sqlalchemy import Engine

from copilot.errors import CopilotError, ErrorCode
from copilot.gateway.casbin_authorizer import CasbinAuthorizer
from copilot.gateway.gateway import Gateway
from copilot.gateway.validation import Validator
from copilot.settings import PROJECT_ROOT
from tests.databases import fresh_engine
from tests.gateway.retail import ALEX, make_gateway, retail_pack, seed_small

OWN, OTHERS = ["#W0000001", "#W0000002", "#W0000003"], ["#W0000004", "#W0000005", "#W0000006"]
SPACES = [" ", "\t", "\n", "\u00a0", "\u2003", "\u3000", "\u205f"]
POISON = ["\u200b", "\u200d", "\u2060", "\ufeff", "\u202e", "\u0000", "\u0007", " "]
CONFUSABLES = {"W": ["\u0412", "\u051c", "\u13b3"], "0": ["\u041e", "\u039f", "\u0660", "\u06f0", "\u07c0"],
               "1": ["\u0661", "\u0399", "\u04c0", "\u217c"], "#": ["\u2d4c"]}  # fmt: skip
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    with fresh_engine("sqlite", tmp_path_factory.mktemp("props")) as built:
        seed_small(built)
        yield built


@pytest.fixture(scope="module")
def gateway(engine: Engine) -> Gateway:
    return make_gateway(engine)


def _fullwidth(ch: str) -> str:
    return chr(ord(ch) + 0xFEE0) if "!" <= ch <= "~" else ch


@st.composite
def spellings(draw: st.DrawFn, order_id: str) -> str:
    """A harmless spelling of `order_id`: what a person or a model might type."""
    body = order_id[1:] if draw(st.booleans()) else order_id
    body = body.lower() if draw(st.booleans()) else body
    body = "".join(_fullwidth(ch) if draw(st.booleans()) else ch for ch in body)
    pad = st.text(st.sampled_from(SPACES), max_size=3)
    return draw(pad) + body + draw(pad)


@st.composite
def poisoned(draw: st.DrawFn, order_id: str) -> str:
    """`order_id` with one confusable or invisible character swapped in or inserted."""
    at = draw(st.integers(0, len(order_id) - 2))  # inserted between two characters
    swappable = [i for i, ch in enumerate(order_id) if ch in CONFUSABLES]
    swap: bool = draw(st.booleans())
    if swap and swappable:
        at = draw(st.sampled_from(swappable))
        return order_id[:at] + draw(st.sampled_from(CONFUSABLES[order_id[at]])) + order_id[at + 1 :]
    return order_id[: at + 1] + draw(st.sampled_from(POISON)) + order_id[at + 1 :]


@FAST
@given(data=st.data(), mine=st.booleans())
def test_harmless_spellings_reach_ownership_as_the_one_id(
    gateway: Gateway, data: st.DataObject, mine: bool
) -> None:
    order_id = data.draw(st.sampled_from(OWN if mine else OTHERS))
    spelled = data.draw(spellings(order_id))
    result = gateway.call(ALEX, "get_order_details", {"order_id": spelled})
    if mine:
        assert result.outcome == "executed", (spelled, result.message)
        assert result.arguments == {"order_id": order_id} and result.result["order_id"] == order_id
    else:
        assert (result.outcome, result.result) == ("denied", None), (spelled, result.message)


@FAST
@given(data=st.data())
def test_poisoned_spellings_are_invalid_never_a_lookup(gateway: Gateway, data: st.DataObject) -> None:
    order_id = data.draw(st.sampled_from(OWN + OTHERS))
    spelled = data.draw(poisoned(order_id))
    result = gateway.call(ALEX, "get_order_details", {"order_id": spelled})
    assert (result.outcome, result.code, result.result) == ("invalid", "invalid_arguments", None), repr(
        spelled
    )


nestings = st.sampled_from(OWN + OTHERS).flatmap(
    lambda oid: st.recursive(
        st.just(oid), lambda inner: st.lists(inner, min_size=1, max_size=2) | st.dictionaries(
            st.sampled_from(["order_id", "id", "$ref"]), inner, min_size=1, max_size=2), max_leaves=4,
    ).filter(lambda value: not isinstance(value, str))
)  # fmt: skip


@FAST
@given(nested=nestings, tool=st.sampled_from(["get_order_details", "cancel_pending_order"]))
def test_nested_identifiers_are_invalid(gateway: Gateway, nested: object, tool: str) -> None:
    args: dict[str, Any] = {"order_id": nested}
    if tool == "cancel_pending_order":
        args["reason"] = "no longer needed"
    result = gateway.call(ALEX, tool, args)
    assert (result.outcome, result.code, result.preview) == ("invalid", "invalid_arguments", None)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=12),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3),
    max_leaves=8,
)
PACK_SPECS = [t.spec for t in retail_pack().tools]


@st.composite
def arguments_for(draw: st.DrawFn, properties: dict[str, Any]) -> dict[str, Any]:
    """Mostly the tool's own argument names, with plausible or arbitrary values (and sometimes extras)."""
    plausible = st.sampled_from(OWN + OTHERS + ["gift_card_0000001", "Credit_Card_0000002 ", "1008292230",
                                                "demo_customer_0001", "no longer needed", "1 + 2"])  # fmt: skip
    names = draw(st.lists(st.sampled_from(sorted(properties) or ["x"]), unique=True))
    args = {name: draw(plausible | json_values | st.lists(plausible, max_size=3)) for name in names}
    if draw(st.integers(0, 9)) == 0:
        args[draw(st.text(max_size=6))] = draw(json_values)
    return args


@settings(max_examples=300, deadline=None)
@given(data=st.data())
def test_validation_refuses_or_returns_a_schema_valid_canonical_object(data: st.DataObject) -> None:
    spec = data.draw(st.sampled_from(PACK_SPECS))
    properties = dict(spec.parameters).get("properties", {})
    raw = data.draw(arguments_for(properties) | json_values)
    validator = Validator()
    try:
        checked = validator.validate(spec, raw)
    except CopilotError as exc:
        assert exc.code is ErrorCode.INVALID_ARGUMENTS and exc.message
        return
    assert Draft202012Validator(dict(spec.parameters)).is_valid(checked)
    assert set(checked) <= set(properties)
    assert validator.validate(spec, checked) == checked  # canonical: a fixed point


# --- policy decisions against a reference model ---------------------------------------------------------------
ROLES = ["guest", "customer", "agent", "supervisor", "lead"]
TENANTS = ["demo", "acme", "shop-2"]
TOOLS = ["get_order_details", "get_user_details", "cancel_pending_order", "calculate", "policy"]
ACTS = ["call", "manage"]
p_rows = st.tuples(
    st.just("p"), st.sampled_from(ROLES), st.sampled_from([*TENANTS, "*", "sh*"]),
    st.sampled_from([*TOOLS, "*", "get_*", "cancel_*"]), st.sampled_from([*ACTS, "*"]),
    st.sampled_from(["allow", "deny"]),
)  # fmt: skip
# inheritance: a role may inherit from one role after it in ROLES (no cycles), in one tenant or all
g_rows = st.dictionaries(
    st.integers(0, len(ROLES) - 2), st.tuples(st.integers(1, 3), st.sampled_from([*TENANTS, "*"]))
)


def key_match(name: str, pattern: str) -> bool:
    """Reference wildcard: `prefix*` matches names starting with prefix; otherwise exact."""
    return name.startswith(pattern[:-1]) if pattern.endswith("*") else name == pattern


def reference(rules: list[tuple[str, ...]], role: str, tenant: str, obj: str, act: str) -> bool:
    roles, frontier = {role}, [role]
    while frontier:
        child = frontier.pop()
        for rule in rules:
            if rule[0] == "g" and rule[1] == child and key_match(tenant, rule[3]) and rule[2] not in roles:
                roles.add(rule[2])
                frontier.append(rule[2])
    matching = [r[5] for r in rules if r[0] == "p" and r[1] in roles and key_match(tenant, r[2])
                and key_match(obj, r[3]) and key_match(act, r[4])]  # fmt: skip
    return "allow" in matching and "deny" not in matching


MODEL = (PROJECT_ROOT / "policies" / "model.conf").read_text(encoding="utf-8")


@settings(max_examples=150, deadline=None)
@given(
    p=st.lists(p_rows, max_size=10), g=g_rows,
    requests=st.lists(st.tuples(st.sampled_from(ROLES), st.sampled_from(TENANTS), st.sampled_from(TOOLS),
                                st.sampled_from(ACTS)), min_size=1, max_size=12),
)  # fmt: skip
def test_casbin_decides_like_the_reference_model(
    p: list[tuple[str, ...]], g: dict[int, tuple[int, str]], requests: list[tuple[str, str, str, str]]
) -> None:
    inherit = [("g", ROLES[c], ROLES[min(c + step, len(ROLES) - 1)], dom) for c, (step, dom) in g.items()]
    rules = [*p, *inherit]
    authorizer = CasbinAuthorizer.from_rules(MODEL, rules)
    for role, tenant, obj, act in requests:
        expected = reference(rules, role, tenant, obj, act)
        assert authorizer.allows(role, tenant, obj, act) is expected, (rules, role, tenant, obj, act)
        assert authorizer.enforce_uncached(role, tenant, obj, act) is expected
