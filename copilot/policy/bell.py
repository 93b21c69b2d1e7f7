"""Policy changes across workers: a local activation rings ("policy", tenant); a ring from any worker makes
this worker's live authorizer read the stamp and load the new version at once, off the event loop."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from copilot.doorbell import Doorbell, wait
from copilot.policy.reload import LiveAuthorizer, LocalNotifier, local_notifier

log = logging.getLogger(__name__)


async def follow_policy(bell: Doorbell, live: LiveAuthorizer, tenant: str) -> None:
    """Reload `live` whenever ("policy", tenant) or ("policy", "*") rings (and every poll interval)."""
    while True:
        signal = bell.signal("policy", tenant)
        try:
            await asyncio.to_thread(live.refresh)
        except Exception:  # the store is unreachable: the next decision reads the stamp itself
            log.warning("policy refresh after a ring failed", exc_info=True)
        await wait(bell, signal)


@asynccontextmanager
async def policy_doorbell(
    bell: Doorbell, notifier: LocalNotifier, live: LiveAuthorizer, tenant: str
) -> AsyncIterator[None]:
    """Ring on activations published to `notifier` in this process; follow everybody's rings into `live`."""

    def ring(_version: int) -> None:
        bell.ring("policy", tenant)

    notifier.subscribe(ring)
    task = asyncio.create_task(follow_policy(bell, live, tenant), name="policy doorbell")
    try:
        yield
    finally:
        notifier.unsubscribe(ring)
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


def gateway_policy_doorbell(
    bell: Doorbell, authorizer: object, database_url: str, tenant: str
) -> contextlib.AbstractAsyncContextManager[None]:
    """`policy_doorbell` for the gateway's authorizer when it follows the store live (else nothing to do)."""
    if not isinstance(authorizer, LiveAuthorizer):
        return contextlib.nullcontext()
    return policy_doorbell(bell, local_notifier(database_url), authorizer, tenant)
