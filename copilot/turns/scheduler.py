"""TurnScheduler: this process's turn worker. `start` persists a turn and returns at once (the 202); a
claim loop runs queued and abandoned turns of any conversation (one at a time per conversation, across all
workers), a heartbeat keeps their leases, and every turn ends with turn.completed written together with the
job's completion. On shutdown (`aclose`), short turns finish; longer ones are handed back to recovery.

The common case takes no claim-loop round trip: `start` claims the new turn in its enqueue transaction when
this worker has room and the conversation is idle, and a finishing turn claims its conversation's next
queued turn in its finish transaction. The claim loop (woken by the doorbell, or its poll) takes the rest:
turns queued on a busy worker, released by a draining one, or left by a dead one."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import socket
import time
import uuid
from collections.abc import Callable
from dataclasses import replace
from typing import Any

from sqlalchemy import Connection

from copilot.doorbell import ANY, Doorbell, LocalDoorbell, wait
from copilot.errors import CopilotError, ErrorCode
from copilot.eventlog import EventLog
from copilot.faults import crash_point
from copilot.principal import Principal
from copilot.telemetry.tracing import traceparent
from copilot.turns.queue import CancelRequested, Claimed, TurnQueue
from copilot.turns.request import TurnRequest, TurnRunner, TurnStatus, new_turn_id

log = logging.getLogger(__name__)

FAILED = "The assistant hit an internal error; please try again or ask for a human agent."


def worker_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:6]}"


class TurnScheduler:
    def __init__(
        self, queue: TurnQueue, events: EventLog, runner: TurnRunner, *, capacity: int = 64,
        poll: float = 0.5, bell: Doorbell | None = None,
    ) -> None:  # fmt: skip
        self.queue = queue
        self._bell: Doorbell = bell or LocalDoorbell()
        """Rung ("turns", …) when a turn is queued, finished or released: wakes the claim loop of every worker
        that shares the bell (Redis across processes); the `poll` also finds expired leases."""
        self._events = events
        self._runner = runner
        self._capacity = capacity
        self._poll = poll
        self.worker = worker_name()
        self._tasks: dict[str, asyncio.Task[None]] = {}
        """Running turns of this worker by turn id."""
        self._cancelling: set[str] = set()
        """Turns this worker is stopping because a cancel was requested (they end as cancelled)."""
        self._loops: list[asyncio.Task[None]] = []
        self._reserved = 0
        """Claims in flight in `start` (counted against the capacity before they land in `_tasks`)."""
        self._accepting = True
        self._drained: asyncio.Task[None] | None = None

    # -- producers --------------------------------------------------------------------------------------
    async def start(
        self, conversation_id: str, principal: Principal, *, text: str | None = None,
        resume: dict[str, Any] | None = None, also: Callable[[Connection], None] | None = None,
        unowned: bool = False,
    ) -> str:  # fmt: skip
        """Queue a turn durably and return its id; it runs after the conversation's earlier turns. `also(conn)`
        commits in the same transaction (e.g. the conversation's activity stamp); what it raises rolls the
        turn back and propagates. With room here, the turn is claimed by this worker in that transaction and
        starts at once; `unowned`: `also` checked that no human owns the conversation (see `TurnRequest`)."""
        request = TurnRequest(
            conversation_id, new_turn_id(), principal, text, resume, traceparent=traceparent()
        )
        self.open()
        take = self._accepting and len(self._tasks) + self._reserved < self._capacity
        self._reserved += take
        try:
            claimed = await asyncio.to_thread(self.queue.submit, request, self.worker if take else None, also)
        finally:
            self._reserved -= take
        if claimed is not None and self._accepting:
            self._spawn(replace(claimed, request=replace(claimed.request, unowned=unowned)))
        elif claimed is not None:  # draining began meanwhile: hand it over to another worker now
            await self._release([request.turn_id])
        else:
            self.kick(conversation_id)
        return request.turn_id

    def enqueue_on(
        self, conn: Connection, conversation_id: str, principal: Principal, *, resume: dict[str, Any]
    ) -> str:
        """Queue a turn inside the caller's transaction (an outbox write); `kick` after it commits."""
        request = TurnRequest(
            conversation_id, new_turn_id(), principal, resume=resume, traceparent=traceparent()
        )
        self.queue.enqueue(request, conn)
        return request.turn_id

    def kick(self, conversation_id: str = ANY) -> None:
        """Make every worker look for work now (a turn was queued, finished or released); starts this
        process's worker on first use."""
        self.open()
        self._bell.ring("turns", conversation_id)

    # -- state ------------------------------------------------------------------------------------------
    async def active(self, conversation_id: str) -> bool:
        """A turn of the conversation is queued or running (on any worker)."""
        return await asyncio.to_thread(self.queue.active, conversation_id)

    async def ensure_idle(self, conversation_id: str) -> None:
        if await self.active(conversation_id):
            raise CopilotError(
                ErrorCode.CONFLICT,
                "A turn is still running; try again after turn.completed on the events stream.",
            )

    async def wait_idle(self, conversation_id: str, *, poll: float = 0.05) -> None:
        """Wait until no turn of the conversation is queued or running."""
        while await self.active(conversation_id):
            await asyncio.sleep(poll)

    async def cancel(self, conversation_id: str) -> CancelRequested:
        """Stop the conversation's running turn, on whichever worker runs it, and its queued turns (they end
        when claimed, without running): each ends with turn.completed {status: cancelled}, exactly once."""
        asked = await asyncio.to_thread(self.queue.request_cancel, conversation_id)
        if asked.running:
            self._stop(asked.running)
            self._bell.ring("cancel", conversation_id)  # other workers look at their running turns
        if asked.queued:  # when nothing runs before them, a claim loop ends them now
            self._bell.ring("turns", conversation_id)
        return asked

    def _stop(self, turn_ids: set[str] | list[str]) -> None:
        for turn_id in turn_ids:
            task = self._tasks.get(turn_id)
            if task is not None and turn_id not in self._cancelling:
                self._cancelling.add(turn_id)
                task.cancel()

    async def _cancel_loop(self) -> None:
        """Rung ("cancel", …) by any worker: stop the turns here that were marked (the heartbeat checks too)."""
        while True:
            rung = self._bell.signal("cancel", ANY)
            await wait(self._bell, rung, None)
            if rung.is_set() and self._tasks:
                await self._check_cancels()

    async def _check_cancels(self) -> None:
        try:
            marked = await asyncio.to_thread(self.queue.cancel_requested, self.worker, list(self._tasks))
        except Exception:
            log.exception("reading turn cancellations failed")
            return
        self._stop(marked)

    @property
    def running(self) -> int:
        return len(self._tasks)

    # -- the worker -------------------------------------------------------------------------------------
    def open(self) -> None:
        """Start the claim loop and the heartbeat (idempotent; needs a running event loop)."""
        if not self._loops and self._accepting:
            self._loops = [
                asyncio.create_task(self._claim_loop(), name=f"turn claims {self.worker}"),
                asyncio.create_task(self._heartbeat(), name=f"turn leases {self.worker}"),
                asyncio.create_task(self._cancel_loop(), name=f"turn cancels {self.worker}"),
            ]

    async def _claim_loop(self) -> None:
        checked = 0.0  # when expired leases were last looked for (on the poll, not on every ring)
        while self._accepting:
            rung = self._bell.signal("turns", ANY)  # taken before the read: a ring during it is not lost
            free = self._capacity - len(self._tasks)
            recover = free > 0 and time.monotonic() - checked >= self._poll
            checked = time.monotonic() if recover else checked
            try:
                if free > 0:
                    claimed = await asyncio.to_thread(self.queue.claim, self.worker, free, recover=recover)
                else:  # no room to run a turn; cancelled queued ones still end (they run nothing)
                    claimed = await asyncio.to_thread(self.queue.claim_cancelled, self.worker, self._capacity)
            except Exception:
                log.exception("claiming turns failed; retrying")
                claimed = []
            for claim in claimed:
                self._spawn(claim)
            await wait(self._bell, rung, self._poll)

    def _spawn(self, claim: Claimed) -> None:
        request = claim.request
        self._events.committed(request.conversation_id, claim.started)
        if claim.ended is not None:  # cancelled while queued: ended in its claim, nothing to run
            self._events.committed(request.conversation_id, claim.ended)
            self._bell.ring("turns", request.conversation_id)  # the conversation's next turn may start
            return
        task = asyncio.create_task(self._run(request), name=f"turn {request.turn_id}")
        self._tasks[request.turn_id] = task
        task.add_done_callback(lambda _t: self._tasks.pop(request.turn_id, None))

    async def _run(self, request: TurnRequest) -> None:
        sink = self._events.sink(request.conversation_id)
        crash_point("turn.claimed")
        try:
            status: TurnStatus = await self._runner(request, sink)
        except asyncio.CancelledError:
            if request.turn_id not in self._cancelling:
                raise  # shutdown or a lost lease: recovery owes the terminal event
            asyncio.current_task().uncancel()  # type: ignore[union-attr]
            status = "cancelled"
        except Exception as exc:
            log.exception("turn %s failed", request.turn_id)
            error = (
                exc.to_dict()
                if isinstance(exc, CopilotError)
                else {"code": ErrorCode.INTERNAL.value, "message": FAILED}
            )
            await sink.emit("error", error, turn_id=request.turn_id)
            status = "failed"
        crash_point("turn.finishing")
        take_next = self._accepting
        try:
            finished = await asyncio.to_thread(
                self.queue.finish, request, self.worker, status, take_next=take_next
            )
        except Exception:  # the database is down: the lease runs out and another worker ends the turn
            log.exception("could not finish turn %s; it will be recovered", request.turn_id)
            return
        self._cancelling.discard(request.turn_id)
        if finished.completed is not None:
            self._events.committed(request.conversation_id, finished.completed)
        if finished.next is not None:
            self._spawn(finished.next)
        elif not (take_next and self.queue.serialised):
            # Someone else may start the conversation's next turn now. On Postgres a `start` that checked
            # before this finish committed queued its turn and rang before the commit, too early for any
            # claim loop to see it; this ring, after the commit, is the one that lets them.
            self._bell.ring("turns", request.conversation_id)

    async def _heartbeat(self) -> None:
        interval = max(self.queue.lease.total_seconds() / 3, 0.05)
        while True:
            await asyncio.sleep(interval)
            try:
                lost = await asyncio.to_thread(self.queue.renew, self.worker, list(self._tasks))
            except Exception:
                log.exception("renewing turn leases failed")
                continue
            for turn_id in lost:  # another worker recovered it after our lease ran out: stop our copy
                log.warning("lost the lease of turn %s; stopping it here", turn_id)
                if (task := self._tasks.get(turn_id)) is not None:
                    task.cancel()
            if self._tasks:  # a cancel whose ring did not reach this worker (no Redis)
                await self._check_cancels()

    # -- shutdown ---------------------------------------------------------------------------------------
    @property
    def draining(self) -> bool:
        return not self._accepting

    async def drain(self, timeout: float) -> None:
        """Stop taking turns, let running ones finish for `timeout` seconds, then hand the rest to recovery
        (their leases end now: another worker, or this one after a restart, resumes them from their last
        checkpoint and owes their terminal event). Idempotent: every caller awaits the same drain."""
        if self._drained is None:
            self._accepting = False
            self._bell.ring("turns", ANY)
            self._drained = asyncio.create_task(self._drain(timeout), name=f"turn drain {self.worker}")
        await asyncio.shield(self._drained)

    async def _drain(self, timeout: float) -> None:
        tasks = dict(self._tasks)
        if not tasks:
            return
        _, pending = await asyncio.wait(tasks.values(), timeout=timeout)
        unfinished = [turn_id for turn_id, task in tasks.items() if task in pending]
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.wait(pending)
        if unfinished:
            log.warning("handing %d unfinished turns to recovery: %s", len(unfinished), unfinished)
            await self._release(unfinished)

    async def _release(self, turn_ids: list[str]) -> None:
        with contextlib.suppress(Exception):
            await asyncio.to_thread(self.queue.release, self.worker, turn_ids)
            self._bell.ring("turns", ANY)  # another worker takes them now

    async def aclose(self, timeout: float = 30.0) -> None:
        """Drain (see `drain`), then stop the claim loop and the heartbeat."""
        await self.drain(timeout)
        for loop in self._loops:
            loop.cancel()
        for loop in self._loops:
            with contextlib.suppress(asyncio.CancelledError):
                await loop
        self._loops = []
