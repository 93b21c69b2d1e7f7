"""A write is previewed once per turn (copilot/agent/once.py): whatever calls a model repeats, each distinct
change (tool + canonical arguments) reaches the gateway at most once, reads are never held back, and a
validation repair starts no write at all."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st
from langchain_core.messages import ToolCall

from copilot.agent.hygiene import signature
from copilot.agent.once import refusal
from copilot.agent.state import ActionRecord

WRITES = frozenset({"cancel_pending_order", "modify_user_address"})
calls = st.lists(
    st.tuples(
        st.sampled_from([*sorted(WRITES), "get_order_details"]),
        st.dictionaries(
            st.sampled_from(["order_id", "reason"]), st.sampled_from(["#W1", "#W2", "x"]), max_size=2
        ),
        st.sampled_from(["preview", "executed", "declined", "denied", "error"]),
    ),
    max_size=12,
)


def _play(moves: list[tuple[str, dict[str, str], str]], repairing: bool) -> tuple[list[str], list[str]]:
    """act's loop over the calls: (signatures that reached the gateway, codes of the refused calls)."""
    actions: list[ActionRecord] = []
    ran, refused = [], []
    for n, (name, args, outcome) in enumerate(moves):
        call = ToolCall(name=name, args=args, id=f"c{n}")
        answer = refusal(call, actions, WRITES, repairing)
        if answer is not None:
            refused.append(str(answer.content))
            continue
        sig = signature(name, args)
        ran.append(sig)
        action = ActionRecord(call_id=f"c{n}", tool=name, outcome=outcome, signature=sig)
        if name in WRITES:
            action["preview_id"] = f"p{n}"
        actions.append(action)
    return ran, refused


@given(calls)
def test_each_change_reaches_the_gateway_once_unless_its_preview_failed(
    moves: list[tuple[str, dict[str, str], str]],
) -> None:
    ran, refused = _play(moves, repairing=False)
    expected, handled = [], set()
    for name, args, outcome in moves:
        sig = signature(name, args)
        if name in WRITES and sig in handled:
            continue
        expected.append(sig)
        if name in WRITES and outcome != "error":
            handled.add(sig)
    assert ran == expected  # reads always run; a write again only after its previews ended in error
    assert len(refused) == len(moves) - len(ran) and all("already_handled" in t for t in refused)


@given(calls)
def test_a_repair_starts_no_write(moves: list[tuple[str, dict[str, str], str]]) -> None:
    ran, refused = _play(moves, repairing=True)
    assert len(ran) == sum(1 for name, _, _ in moves if name not in WRITES)
    assert len(refused) == sum(1 for name, _, _ in moves if name in WRITES)
    assert all("not_run" in text for text in refused)
