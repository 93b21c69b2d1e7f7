"""Grading as τ² grades: the store after the conversation must equal the store after replaying the gold
actions (a hash of every domain document of the tenant), and every required output must have been said by
the assistant (τ²'s check: a case-insensitive substring of one assistant message, commas ignored). NL
assertions are graded apart, by a judge model (copilot/simulation/judge.py), and do not change `passed`."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import Engine, select

from copilot.gateway.gateway import Gateway
from copilot.principal import Principal
from copilot.simulation.judge import NLGrade
from copilot.simulation.tasks import GoldAction
from copilot.store.schema import documents


def store_hash(engine: Engine, tenant: str) -> str:
    """sha256 over the tenant's documents (kind, id, canonical JSON data), in key order."""
    digest = hashlib.sha256()
    query = (
        select(documents.c.kind, documents.c.id, documents.c.data)
        .where(documents.c.tenant == tenant)
        .order_by(documents.c.kind, documents.c.id)
    )
    with engine.connect() as conn:
        for kind, id_, data in conn.execute(query):
            digest.update(json.dumps([kind, id_, data], sort_keys=True, separators=(",", ":")).encode())
    return digest.hexdigest()


def replay_gold(gateway: Gateway, actor: Principal, actions: Sequence[GoldAction]) -> str:
    """Run the gold actions through the gateway as `actor` (staff: writes preview → decide → execute) and
    return the store hash; an action the store refuses is skipped, as in τ² (some tasks probe invalid
    requests on purpose)."""
    for action in actions:
        result = gateway.call(actor, action.name, action.arguments)
        if result.outcome == "preview" and result.preview is not None:
            gateway.decide(actor, result.preview.preview_id, approve=True)
            gateway.execute(actor, result.preview.preview_id)
    return store_hash(gateway.engine, actor.tenant)


def normalised(text: str) -> str:
    return text.lower().replace(",", "")


def missing_outputs(required: Iterable[str], said: Sequence[str]) -> list[str]:
    """Required outputs no assistant message contains."""
    messages = [normalised(text) for text in said]
    return [info for info in required if not any(normalised(info) in m for m in messages)]


@dataclass(frozen=True, slots=True)
class Grade:
    store_matches: bool
    missing: tuple[str, ...]
    handoff_expected: bool | None
    handed_off: bool
    nl: NLGrade | None = None
    """The task's NL assertions (None: it has none); reported beside `passed`, never part of it."""

    @property
    def passed(self) -> bool:
        handoff_ok = self.handoff_expected is None or self.handoff_expected == self.handed_off
        return self.store_matches and not self.missing and handoff_ok

    @property
    def reasons(self) -> list[str]:
        """Why the trial failed (empty when it passed)."""
        why = [] if self.store_matches else ["the store differs from the gold actions' store"]
        why += [f"never said {info!r}" for info in self.missing]
        if self.handoff_expected is not None and self.handoff_expected != self.handed_off:
            why.append("expected a handoff" if self.handoff_expected else "handed off unexpectedly")
        return why
