"""Owed approval executions: a supervisor's approval commits as an `approved` row without a result (the
execution's outbox, `copilot.handoff.approvals`). The deciding request runs it at once; this loop, on every
worker, runs the ones such a request left owing when it died — at start-up (recovery after a crash) and then
every `every` seconds. It waits `grace` after a decision so that it leaves a live request's run alone; if it
does overlap one, the gateway's ledger still keeps the write to one effect and the first result is kept."""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta

from copilot.handoff.approvals import ApprovalService

log = logging.getLogger(__name__)


async def execute_owed_periodically(service: ApprovalService, *, grace: float, every: float) -> None:
    while True:
        try:
            ran = await service.execute_owed(datetime.now(UTC) - timedelta(seconds=grace))
            if ran:
                log.warning("approvals: ran %d approved execution(s) a previous request left owing", ran)
        except Exception:  # the database is down: try again at the next round
            log.exception("approvals: owed executions not run; retrying in %.1f s", every)
        await asyncio.sleep(every)
