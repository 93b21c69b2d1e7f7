"""Live reload: the gateway's Authorizer follows the active policy version without a restart.

Every decision starts by checking a cheap stamp: an in-process counter that `PolicyNotifier.publish` bumps the
moment a version is activated in this process, plus (for other processes) a read of `policy_state.active_version`
at most every `poll_ms` (0 = before every decision). A new version is loaded through the Casbin adapter and swapped
in atomically. A decision pins the snapshot it started with (`pinned()`), so it finishes on that version and the
audit row names it. Across processes, `copilot.policy.bell` rings the doorbell ("policy", tenant) on every local
activation and reloads on other workers' rings (`refresh`), so a worker has the new version loaded before its
next decision needs it; the per-decision stamp read keeps that decision correct even if a ring is lost.
"""

from __future__ import annotations

import contextvars
import logging
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Protocol

from sqlalchemy import Connection
from sqlalchemy.exc import SQLAlchemyError

from copilot.gateway.authorizer import CALL, Scope
from copilot.gateway.casbin_authorizer import CasbinAuthorizer
from copilot.policy.store import PolicyStore

log = logging.getLogger(__name__)


class PolicyNotifier(Protocol):
    """Tells workers that a new version is active (in-process now; Redis/Postgres NOTIFY later)."""

    def publish(self, version: int) -> None: ...

    def subscribe(self, callback: Callable[[int], None]) -> None: ...


class LocalNotifier:
    """In-process fan-out: callbacks run synchronously in the activating thread (they only bump a counter)."""

    def __init__(self) -> None:
        self._callbacks: list[Callable[[int], None]] = []
        self._lock = threading.Lock()

    def publish(self, version: int) -> None:
        with self._lock:
            callbacks = list(self._callbacks)
        for callback in callbacks:
            callback(version)

    def subscribe(self, callback: Callable[[int], None]) -> None:
        with self._lock:
            self._callbacks.append(callback)

    def unsubscribe(self, callback: Callable[[int], None]) -> None:
        with self._lock:
            if callback in self._callbacks:
                self._callbacks.remove(callback)


_NOTIFIERS: dict[str, LocalNotifier] = {}
_NOTIFIERS_LOCK = threading.Lock()


def local_notifier(database_url: str) -> LocalNotifier:
    """One notifier per database in this process, shared by the gateway and the policy API."""
    with _NOTIFIERS_LOCK:
        return _NOTIFIERS.setdefault(database_url, LocalNotifier())


@dataclass(frozen=True, slots=True)
class Snapshot:
    number: int
    authorizer: CasbinAuthorizer


_PINNED: contextvars.ContextVar[Snapshot | None] = contextvars.ContextVar("copilot_policy_pin", default=None)


class LiveAuthorizer:
    """An `Authorizer` over the store's active version, reloaded when the stamp moves."""

    def __init__(self, store: PolicyStore, notifier: PolicyNotifier, *, poll_ms: float = 0.0) -> None:
        self._store = store
        self._poll_s = poll_ms / 1000
        self._lock = threading.Lock()
        self._bumped = 0
        self._seen_bump = 0
        self._checked_at = time.monotonic()
        self.reloads = 0
        number, authorizer = store.load_authorizer()
        self._current = Snapshot(number, authorizer)
        notifier.subscribe(self._on_publish)

    def _on_publish(self, version: int) -> None:
        if version != self._current.number:
            self._bumped += 1  # read without the lock: a torn read only delays to the next check

    def _refresh(self, conn: Connection | None = None) -> Snapshot:
        current = self._current
        now = time.monotonic()
        if self._bumped == self._seen_bump and now - self._checked_at < self._poll_s:
            return current
        self._checked_at = now
        bumped = self._bumped
        try:
            stamp = self._store.active_number(conn)
        except SQLAlchemyError:  # the store is unreachable: keep deciding on the version we have
            log.warning("policy stamp read failed; staying on version %s", current.number, exc_info=True)
            return current
        if stamp is None or stamp == current.number:
            self._seen_bump = bumped
            return current
        with self._lock:
            if self._current.number != stamp:
                number, authorizer = self._store.load_authorizer()
                self._current = Snapshot(number, authorizer)
                self.reloads += 1
            self._seen_bump = bumped
            return self._current

    def refresh(self) -> int:
        """Read the stamp now (whatever `poll_ms` says) and load the active version if it moved; its number."""
        self._bumped += 1
        return self._refresh().number

    def snapshot(self) -> Snapshot:
        """The pinned snapshot of the running decision, else the freshest one."""
        return _PINNED.get() or self._refresh()

    @contextmanager
    def pinned(self, conn: Connection | None = None) -> Iterator[Snapshot]:
        """Run one decision on one version: every query inside sees the snapshot taken on entry. With `conn`
        (the gateway's own connection) the stamp is read on it: ~0.05 ms instead of ~0.3 ms for a pool
        checkout + statement build + reset, and still a fresh read before every decision, so every worker
        (process) applies a newly activated version before its next decision."""
        if _PINNED.get() is not None:  # nested (execute → authorize): keep the outer pin
            yield self.snapshot()
            return
        token = _PINNED.set(self._refresh(conn))
        try:
            yield self.snapshot()
        finally:
            _PINNED.reset(token)

    @property
    def active_number(self) -> int:
        return self.snapshot().number

    # -- Authorizer protocol --------------------------------------------------------------------------------
    @property
    def version(self) -> str:
        return self.snapshot().authorizer.version

    def allows(self, role: str, tenant: str, obj: str, act: str = CALL) -> bool:
        return self.snapshot().authorizer.allows(role, tenant, obj, act)

    def scope(self, role: str, tenant: str) -> Scope:
        return self.snapshot().authorizer.scope(role, tenant)

    def limit(self, role: str, tenant: str, key: str) -> float:
        return self.snapshot().authorizer.limit(role, tenant, key)
