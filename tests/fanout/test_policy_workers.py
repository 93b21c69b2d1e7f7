"""A policy activation on worker A reaches worker B's gateway through the doorbell: B reloads within
milliseconds, before any decision asks. B polls the stamp lazily here (once a minute), so without the ring its
next decisions would still run on the old version: the assertion fails if the bell does not work."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

from copilot.gateway.gateway import Gateway
from copilot.packs import load_pack
from copilot.policy.bell import policy_doorbell
from copilot.policy.reload import LiveAuthorizer, LocalNotifier
from copilot.policy.service import PolicyService, open_policy
from copilot.principal import Principal
from copilot.redis_doorbell import RedisDoorbell
from copilot.settings import PROJECT_ROOT
from copilot.store.database import make_engine
from copilot.store.documents import DocumentStore
from tests.policy.conftest import CUSTOMER_CANCEL, POLICIES, pending_order, without


def _revoke(service: PolicyService) -> int:
    active = service.store.active()
    rules = without(active.rules, CUSTOMER_CANCEL)
    return service.save(rules, author="admin:ann@demo", message="no cancels", if_match=active.etag).version


async def _until_reloaded(live: LiveAuthorizer, timeout: float) -> float:
    started = time.perf_counter()
    while live.reloads == 0 and time.perf_counter() - started < timeout:
        await asyncio.sleep(0.002)
    return time.perf_counter() - started


async def test_an_activation_on_a_reloads_b_before_its_next_decision(
    tmp_path: Path, bells: tuple[RedisDoorbell, RedisDoorbell]
) -> None:
    pack = load_pack(PROJECT_ROOT / "tools" / "retail")
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    engine_a, engine_b = make_engine(url), make_engine(url)
    with engine_a.begin() as conn:
        pack.seed(DocumentStore(conn, "demo"), None)
    service_a, live_a = open_policy(engine_a, pack, POLICIES, notifier=(notifier_a := LocalNotifier()))
    _, live_b = open_policy(
        engine_b, pack, POLICIES, notifier=(notifier_b := LocalNotifier()), poll_ms=60_000
    )
    user, order = pending_order(engine_b)
    customer, args = Principal("demo", "customer", user), {"order_id": order, "reason": "no longer needed"}
    gateway_b = Gateway(engine_b, pack, live_b)
    async with (
        policy_doorbell(bells[0], notifier_a, live_a),
        policy_doorbell(bells[1], notifier_b, live_b),
    ):
        assert gateway_b.call(customer, "cancel_pending_order", args).outcome == "preview"
        version = await asyncio.to_thread(_revoke, service_a)  # the admin API runs it in a worker thread
        elapsed = await _until_reloaded(live_b, timeout=1.0)
        assert live_b.reloads == 1 and elapsed < 0.25, elapsed  # reloaded by the ring, no decision asked
        denied = gateway_b.call(customer, "cancel_pending_order", args)
    assert denied.outcome == "denied" and live_b.active_number == version
    engine_a.dispose()
    engine_b.dispose()
