"""Customer feedback on the copilot's answers: thumbs up or down with an optional comment, one per answer.

An answer is named by its `message.completed` event's seq. Rating it again replaces the rating (the row
keeps the latest and counts `revisions`); every new or changed rating is also a `feedback.recorded` event
in the conversation's log, committed with the row, so the history stays and open streams see it. The same
rating and comment again change nothing (PUT semantics). Comments pass `copilot.redaction.redact_text`
before they are stored: the customer may paste an email, a card or a phone number into them.
"""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from sqlalchemy import Connection, Engine, Row, insert, select, update
from sqlalchemy.exc import IntegrityError, OperationalError

from copilot.conversations import Conversation
from copilot.errors import CopilotError, ErrorCode
from copilot.eventlog import EventLog, insert_event
from copilot.redaction import redact_text
from copilot.store.schema import events, feedback
from copilot.telemetry.metrics import count_feedback

Rating = Literal["up", "down"]
MAX_COMMENT_CHARS = 1000
_ATTEMPTS = 12


class _Raced(Exception):
    """Another rating of the same answer committed between our read and our write."""


@dataclass(frozen=True, slots=True)
class Feedback:
    conversation_id: str
    message_seq: int
    turn_id: str | None
    rating: Rating
    comment: str | None
    revisions: int
    """How often the customer rated this answer (1: never changed)."""
    created_at: datetime
    updated_at: datetime


def clean_comment(comment: str | None) -> str | None:
    """The comment as stored: trimmed, None when blank, personal data masked."""
    text = (comment or "").strip()
    return redact_text(text) if text else None


class FeedbackStore:
    """The `feedback` table plus its `feedback.recorded` events."""

    def __init__(self, engine: Engine, events: EventLog) -> None:
        self._engine = engine
        self._events = events

    async def record(
        self, conversation: Conversation, seq: int, rating: Rating, comment: str | None
    ) -> tuple[Feedback, bool]:
        """Rate answer `seq` of the conversation; returns the feedback and whether anything changed.
        NOT_FOUND when `seq` is not one of the conversation's answers."""
        stored = await asyncio.to_thread(
            self._record_retrying, conversation, seq, rating, clean_comment(comment)
        )
        saved, previous = stored
        changed = previous != (saved.rating, saved.comment)
        if changed:
            self._events.notify(conversation.id)
            count_feedback(saved.rating, "new" if previous is None else "changed")
        return saved, changed

    async def of_conversation(self, conversation_id: str) -> dict[int, Feedback]:
        """The conversation's feedback by answer seq."""
        return await asyncio.to_thread(self._of_conversation, conversation_id)

    def _of_conversation(self, conversation_id: str) -> dict[int, Feedback]:
        query = select(feedback).where(feedback.c.conversation_id == conversation_id)
        with self._engine.connect() as conn:
            return {row.message_seq: _feedback(row) for row in conn.execute(query)}

    def _record_retrying(
        self, conversation: Conversation, seq: int, rating: Rating, comment: str | None
    ) -> tuple[Feedback, tuple[str, str | None] | None]:
        """Run the transaction again when a concurrent rating of the answer committed first (the compare-and-set
        missed, or both inserted the row), a concurrent append took the event's seq, or SQLite was busy."""
        for attempt in range(_ATTEMPTS):
            try:
                return self._record(conversation, seq, rating, comment)
            except (IntegrityError, _Raced):
                continue
            except OperationalError as exc:
                if attempt == _ATTEMPTS - 1 or "locked" not in str(exc).lower():
                    raise
                time.sleep(0.01 * (attempt + 1))
        return self._record(conversation, seq, rating, comment)

    def _record(
        self, conversation: Conversation, seq: int, rating: Rating, comment: str | None
    ) -> tuple[Feedback, tuple[str, str | None] | None]:
        with self._engine.begin() as conn:
            turn_id = _answer_turn(conn, conversation.id, seq)
            key = (feedback.c.conversation_id == conversation.id) & (feedback.c.message_seq == seq)
            row = conn.execute(select(feedback).where(key)).first()
            if row is not None and (row.rating, row.comment) == (rating, comment):
                return _feedback(row), (row.rating, row.comment)
            now = datetime.now(UTC)
            if row is None:
                values = {
                    "conversation_id": conversation.id, "message_seq": seq, "tenant": conversation.tenant,
                    "customer": conversation.customer, "turn_id": turn_id, "rating": rating,
                    "comment": comment, "revisions": 1, "created_at": now, "updated_at": now,
                }  # fmt: skip
                conn.execute(insert(feedback).values(**values))
            else:
                changes = {"rating": rating, "comment": comment, "revisions": row.revisions + 1,
                           "updated_at": now}  # fmt: skip
                seen = feedback.c.revisions == row.revisions  # compare-and-set: a concurrent change wins
                if conn.execute(update(feedback).where(key, seen).values(**changes)).rowcount != 1:
                    raise _Raced
            data = {"message_seq": seq, "rating": rating, "comment": comment,
                    "replaced": row.rating if row is not None else None}  # fmt: skip
            insert_event(conn, conversation.id, "feedback.recorded", data, turn_id)
            saved = conn.execute(select(feedback).where(key)).one()
            return _feedback(saved), (row.rating, row.comment) if row is not None else None


def _answer_turn(conn: Connection, conversation_id: str, seq: int) -> str | None:
    """The turn of answer `seq` (a message.completed event of the conversation); NOT_FOUND otherwise."""
    query = select(events.c.type, events.c.turn_id).where(
        events.c.conversation_id == conversation_id, events.c.seq == seq
    )
    row = conn.execute(query).first()
    if row is None or row.type != "message.completed":
        raise CopilotError(
            ErrorCode.NOT_FOUND,
            f"Event {seq} of conversation {conversation_id!r} is not an answer of the copilot; rate an assistant "
            "message by the `seq` the transcript (GET /v1/conversations/{id}) gives it.",
        )
    return str(row.turn_id) if row.turn_id is not None else None


def _feedback(row: Row[Any]) -> Feedback:
    mapping = row._mapping
    return Feedback(
        conversation_id=mapping["conversation_id"],
        message_seq=int(mapping["message_seq"]),
        turn_id=mapping["turn_id"],
        rating=mapping["rating"],
        comment=mapping["comment"],
        revisions=int(mapping["revisions"]),
        created_at=_aware(mapping["created_at"]),
        updated_at=_aware(mapping["updated_at"]),
    )


def _aware(value: datetime) -> datetime:
    """SQLite returns naive datetimes for timezone-aware columns: they were stored as UTC."""
    return value if value.tzinfo is not None else value.replace(tzinfo=UTC)
