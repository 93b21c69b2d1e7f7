"""Policy changes across workers: a local activation (of any tenant's policy) rings ("policy", "*"); a ring from
any worker makes this worker's live authorizer read the stamps of the tenants it has loaded and load what moved,
at once, off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from copilot.doorbell import ANY, Doorbell, wait
from copilot.policy.reload import LiveAuthorizer, LocalNotifier, local_notifier

log = logging.getLogger(__name__)


async def follow_policy(bell: Doorbell, live: LiveAuthorizer) -> None:
    """Reload `live` whenever ("policy", any tenant) rings (and every poll interval)."""
    while True:
        signal = bell.signal("policy", ANY)
        try:
            await asyncio.to_thread(live.refresh)
        except Exception:  # the store is unreachable: the next decision reads the stamp itself
            log.warning("policy refresh after a ring failed", exc_info=True)
        await wait(bell, signal)


@asynccontextmanager
async def policy_doorbell(
    bell: Doorbell, notifier: LocalNotifier, live: LiveAuthorizer
) -> AsyncIterator[None]:
    """Ring on activations published to `notifier` in this process; follow everybody's rings into `live`."""

    def ring(_version: int) -> None:
        bell.ring("policy", ANY)

    notifier.subscribe(ring)
    task = asyncio.create_task(follow_policy(bell, live), name="policy doorbell")
    try:
        yield
    finally:
        notifier.unsubscribe(ring)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def gateway_policy_doorbell(
    bell: Doorbell, authorizer: object, database_url: str
) -> contextlib.AbstractAsyncContextManager[None]:
    """`policy_doorbell` for the gateway's authorizer when it follows the store live (else nothing to do)."""
    if not isinstance(authorizer, LiveAuthorizer):
        return contextlib.nullcontext()
    return policy_doorbell(bell, local_notifier(database_url), authorizer)
