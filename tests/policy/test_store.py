"""Versioned store: seed, versions with author/diff, rollback, optimistic concurrency, refusals."""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import Engine, text

from copilot.errors import CopilotError, ErrorCode
from copilot.policy.rules import Rule
from copilot.policy.service import PolicyService
from copilot.policy.store import PolicyConflict, PreconditionRequired

from .conftest import CUSTOMER_CANCEL, without

EXTRA: Rule = ("p", "guest", "*", "get_order_details", "call", "deny")


def test_seed_is_version_1_of_the_default_tenant(service: PolicyService, engine: Engine) -> None:
    active = service.store.active()
    assert (active.version, active.kind, active.author) == (1, "seed", "system:seed")
    assert CUSTOMER_CANCEL in active.rules and len(active.rules) == 42
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT tenant, version FROM policy_versions")).all()
        registered = conn.execute(text("SELECT tenant, created_by FROM tenants")).all()
    assert [tuple(r) for r in rows] == [("demo", 1)]
    assert [tuple(r) for r in registered] == [("demo", "system:seed")]
    loaded = service.store.load_authorizer()
    assert loaded is not None and loaded[0] == 1 and sorted(loaded[1].rules()) == active.rules
    assert service.for_tenant("acme").store.load_authorizer() is None
    assert service.store.seed_if_empty(active.rules) is None  # a second start does not reseed


def test_change_creates_a_version_with_author_message_and_diff(service: PolicyService) -> None:
    v1 = service.store.active()
    v2 = service.save(
        [*v1.rules, EXTRA], author="admin:ann@demo", message="deny guests orders", if_match=v1.etag
    )
    assert (v2.version, v2.parent, v2.author, v2.message) == (2, 1, "admin:ann@demo", "deny guests orders")
    assert v2.diff.added == [EXTRA] and v2.diff.removed == []
    assert v2.etag != v1.etag and service.store.active().version == 2
    loaded = service.store.load_authorizer()
    assert loaded is not None and EXTRA in loaded[1].rules()


def test_rollback_is_a_new_version_equal_to_the_old_one(service: PolicyService) -> None:
    v1 = service.store.active()
    v2 = service.save([*v1.rules, EXTRA], author="admin:a@demo", message="m", if_match=v1.etag)
    v3 = service.rollback(1, author="admin:b@demo", if_match=v2.etag)
    assert (v3.version, v3.kind, v3.rollback_of) == (3, "rollback", 1)
    assert v3.rules == v1.rules and v3.diff.removed == [EXTRA]
    history, total = service.store.history()
    assert total == 3 and [v.version for v in history] == [3, 2, 1]


def test_two_concurrent_edits_of_the_same_version_one_wins(service: PolicyService) -> None:
    v1 = service.store.active()
    proposals = {
        "ann": [*v1.rules, EXTRA],
        "bob": [*v1.rules, ("p", "guest", "*", "get_user_details", "call", "deny")],
    }
    barrier = threading.Barrier(2)
    outcomes: dict[str, object] = {}

    def edit(who: str) -> None:
        barrier.wait()
        try:
            outcomes[who] = service.save(proposals[who], author=who, message=who, if_match=v1.etag).version
        except CopilotError as exc:
            outcomes[who] = exc

    threads = [threading.Thread(target=edit, args=(who,)) for who in proposals]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    winners = [who for who, o in outcomes.items() if o == 2]
    losers = [o for o in outcomes.values() if isinstance(o, CopilotError)]
    assert len(winners) == 1 and len(losers) == 1
    assert losers[0].code == ErrorCode.CONFLICT and losers[0].status == 412
    assert "now version 2" in losers[0].message and "reload and re-apply" in losers[0].message
    active = service.store.active()
    assert active.version == 2 and active.rules == sorted(set(proposals[winners[0]]))
    assert service.store.history()[1] == 2  # no lost update, no third version


def test_writes_require_the_active_etag(service: PolicyService) -> None:
    v1 = service.store.active()
    with pytest.raises(PreconditionRequired):
        service.save(v1.rules, author="a", message="m", if_match=None)
    service.save([*v1.rules, EXTRA], author="a", message="m", if_match=v1.etag)
    with pytest.raises(PolicyConflict, match="now version 2"):
        service.save(v1.rules, author="b", message="stale", if_match=v1.etag)


@pytest.mark.parametrize(
    ("rules_change", "code", "finding"),
    [
        (lambda r: [*r, ("p", "customer", "*", "delete_everything", "call", "allow")], ErrorCode.POLICY_INVALID,
         "unknown_tool:delete_everything"),
        (lambda r: [*r, ("p", "root", "*", "calculate", "call", "allow")], ErrorCode.POLICY_INVALID,
         "unknown_role:root"),
        (lambda r: [*r, ("p", "customer", "*", "calculate", "call")], ErrorCode.POLICY_INVALID, "arity"),
        (lambda r: [*r, ("p", "customer", "*", "calculate", "call", "maybe")], ErrorCode.POLICY_INVALID,
         "bad_effect:maybe"),
        (lambda r: [*r, ("p2", "customer", "*", "scope", "world")], ErrorCode.POLICY_INVALID, "bad_value:customer:scope"),
        (lambda r: [*r, ("p2", "agent", "*", "max_refund", "lots")], ErrorCode.POLICY_INVALID, "bad_value:agent:max_refund"),
        (lambda r: [*r, ("g", "agent", "supervisor", "*")], ErrorCode.POLICY_INVALID, "role_cycle:agent"),
        (lambda r: without(r, ("p", "admin", "*", "policy", "manage", "allow")), ErrorCode.POLICY_INVALID,
         "no_policy_admin"),
        (lambda r: [*r, ("p", "customer", "*", "*", "call", "allow")], ErrorCode.POLICY_UNACKNOWLEDGED,
         "wildcard_tool:customer"),
    ],
)  # fmt: skip
def test_bad_changes_are_refused_and_nothing_changes(
    service: PolicyService, engine: Engine, rules_change: object, code: ErrorCode, finding: str
) -> None:
    v1 = service.store.active()
    with pytest.raises(CopilotError) as caught:
        service.save(rules_change(v1.rules), author="a", message="m", if_match=v1.etag)  # type: ignore[operator]
    assert caught.value.code == code and caught.value.status == 422
    ids = [f["id"] for f in caught.value.details.get("findings", caught.value.details.get("warnings", []))]
    assert any(i.startswith(finding) for i in ids), ids
    assert "not saved" in caught.value.message
    assert service.store.active().version == 1 and service.store.history()[1] == 1
    loaded = service.store.load_authorizer()
    assert loaded is not None and sorted(loaded[1].rules()) == v1.rules


def test_warnings_save_once_acknowledged(service: PolicyService) -> None:
    v1 = service.store.active()
    broader = [*without(v1.rules, CUSTOMER_CANCEL), ("p", "customer", "*", "cancel_*", "call", "allow")]
    with pytest.raises(CopilotError) as caught:
        service.save(broader, author="a", message="m", if_match=v1.etag)
    ids = [w["id"] for w in caught.value.details["warnings"]]
    assert ids == ["broad_pattern:customer:cancel_*"]
    saved = service.save(broader, author="a", message="m", if_match=v1.etag, acknowledge=ids)
    assert saved.version == 2


def test_wildcard_tenant_warning_when_the_previous_version_was_specific(service: PolicyService) -> None:
    v1 = service.store.active()
    calc: Rule = ("p", "customer", "*", "calculate", "call", "allow")
    parent = [*without(v1.rules, calc), ("p", "customer", "acme", "calculate", "call", "allow")]
    assert [f.id for f in service.validate(v1.rules, parent)] == ["wildcard_tenant:customer:calculate"]
    assert service.validate(v1.rules, v1.rules) == []  # unchanged grants never warn


def test_a_version_failing_the_policy_tests_is_not_activated(service: PolicyService) -> None:
    v1 = service.store.active()
    leaky = without(v1.rules, ("p", "customer", "*", "find_user_id_*", "call", "deny"))
    leaky.append(("p", "customer", "*", "find_user_id_by_email", "call", "allow"))
    with pytest.raises(CopilotError) as caught:
        service.save(leaky, author="a", message="m", if_match=v1.etag)
    assert caught.value.code == ErrorCode.POLICY_TESTS_FAILED
    failed = caught.value.details["failures"]
    assert {"file": "invariants.yaml", "case": "customer@demo find_user_id_by_email call"}.items() <= failed[
        0
    ].items()
    assert service.store.active().version == 1
