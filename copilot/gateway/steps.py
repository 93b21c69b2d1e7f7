"""The gateway's step helpers: how a step ends a call (`Stop`), fail-closed wrappers around authorization and
handlers, the per-call trace, and which database errors are worth retrying."""

from __future__ import annotations

import json
import time
import uuid
from collections.abc import Callable
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, field
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import DBAPIError, OperationalError

from copilot.errors import CopilotError, ErrorCode
from copilot.gateway.result import Outcome
from copilot.gateway.sandbox import Run, rolled_back, rolled_back_on
from copilot.principal import Principal
from copilot.store.documents import DocumentConflict
from copilot.telemetry.tracing import span

T = TypeVar("T")
GENERIC_CRASH = (
    "The tool failed unexpectedly and nothing was changed. Try again later or hand off to a human."
)
_RETRYABLE_SQLSTATES = frozenset({"40001", "40P01"})  # serialization failure, deadlock detected
_SQLITE_BUSY = ("database is locked", "database is busy", "database table is locked")


class Stop(Exception):
    """Ends a call early with an outcome (raised inside a transaction so it rolls back)."""

    def __init__(self, outcome: Outcome, error: CopilotError, reason: str | None = None) -> None:
        super().__init__(error.message)
        self.outcome: Outcome = outcome
        self.error = error
        self.reason = reason or error.message


def stale() -> CopilotError:
    return CopilotError(
        ErrorCode.PREVIEW_STALE, "The records changed since the preview; ask for the change again."
    )


def guarded(step: Callable[[], T], outcome_on_error: Outcome = "denied", *, stage: str | None = None) -> T:
    """Fail closed: a CopilotError keeps its code; any other exception becomes a denial. `stage` names the
    step's span (`gateway <stage>`) when the call is traced."""
    try:
        with span(f"gateway {stage}") if stage else nullcontext():
            return step()
    except CopilotError as exc:
        raise Stop("invalid" if exc.code == ErrorCode.INVALID_ARGUMENTS else outcome_on_error, exc) from exc
    except Exception as exc:
        error = CopilotError(
            ErrorCode.DENIED,
            "The call could not be authorized, so it was refused. Try again or ask for a human.",
        )
        raise Stop("denied", error, f"fail-closed: {type(exc).__name__}: {exc}") from exc


def handled(step: Callable[[], Run], *, stage: str = "dry_run") -> Run:
    """Handler failures: business errors keep their code and message; a concurrent change of a record the
    handler read is `preview_stale`; crashes become a generic tool_error."""
    try:
        with span(f"gateway {stage}"):
            return step()
    except CopilotError as exc:
        raise Stop("error", exc) from exc
    except DocumentConflict as exc:
        raise Stop("denied", stale(), f"write conflict: {exc}") from exc
    except DBAPIError:
        raise  # the database, not the handler: retried or reported by the caller
    except Exception as exc:
        error = CopilotError(ErrorCode.TOOL_ERROR, GENERIC_CRASH)
        raise Stop("error", error, f"handler crashed: {type(exc).__name__}: {exc}") from exc


def transient(exc: BaseException) -> bool:
    """A database error after which the whole transaction may simply be retried: SQLite's lock timeout,
    a Postgres deadlock or serialization failure. Nothing of the failed transaction was committed."""
    if not isinstance(exc, DBAPIError):
        return False
    orig = exc.orig
    if getattr(orig, "sqlstate", None) in _RETRYABLE_SQLSTATES:
        return True
    return isinstance(exc, OperationalError) and any(text in str(orig) for text in _SQLITE_BUSY)


def auditable(arguments: object) -> dict[str, Any]:
    if isinstance(arguments, dict):
        try:
            plain: dict[str, Any] = json.loads(json.dumps(arguments, default=str))
            return plain
        except (TypeError, ValueError):
            pass
    return {"_unparsed": repr(arguments)[:500]}


@dataclass
class Trace:
    principal: Principal
    tool: str
    conversation_id: str | None
    arguments: dict[str, Any] = field(default_factory=dict)
    decision_id: str = field(default_factory=lambda: uuid.uuid4().hex)
    started: float = field(default_factory=time.perf_counter)
    conn: Connection | None = None
    """The call's own connection (stamp read, rolled-back handler transaction, audit row); None: fresh ones."""

    def sandbox(self, engine: Engine) -> AbstractContextManager[Connection]:
        return rolled_back_on(self.conn) if self.conn is not None else rolled_back(engine)
