"""A scripted day of support conversations, driven through a live server's HTTP API (offline model): help
answers rated up and down, a thank-you, a denied lookup of someone else's order, a confirmed cancellation and
a handoff, each at its own hour of one UTC day. The server's clock is moved to each conversation's hour with time-machine (it moves the
process's wall clock — `datetime.now`, `time.time` — for every thread, and nothing of ours is patched), so the
rows carry the times a real day would give them. `Day` records what was done, for the tests' expectations."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any, Literal

import httpx
import time_machine

from copilot.auth import mint_token
from copilot.principal import Principal
from copilot.settings import ModelPrice
from tests.api.support import SECRET, Sse, parse_sse

DAY = datetime(2026, 11, 16, tzinfo=UTC)
"""A past UTC day (a Monday): every resolution window has passed, so no outcome is pending."""
PRICES = {"copilot-offline:copilot-offline": ModelPrice(input=2.5, output=10.0)}
"""USD per million tokens for the offline model, so the day has a cost."""

Who = Literal["guest", "demo_customer_0001", "demo_customer_0002"]


Outcome = Literal["confirmed", "assumed", "handed_off", "unresolved"]


@dataclass(frozen=True)
class Step:
    say: str
    confirm: bool = False
    """Approve the turn's preview (a second turn)."""
    rate: Literal["up", "down"] | None = None
    """Rate the turn's answer in the widget's way (PUT …/answers/{seq}/feedback)."""


@dataclass(frozen=True)
class Script:
    at: timedelta
    """When the conversation starts, after midnight."""
    who: Who
    steps: tuple[Step, ...]
    outcome: Outcome
    """What copilot.telemetry.outcomes must make of it (README, "Outcomes")."""


SCRIPT = (
    Script(
        timedelta(hours=8, minutes=10),
        "guest",
        (Step("Do you offer free shipping?", rate="up"),),
        "confirmed",
    ),
    Script(
        timedelta(hours=9, minutes=20),
        "guest",
        (Step("How do I return an item?"), Step("Thanks, that solved it!")),
        "confirmed",
    ),
    Script(
        timedelta(hours=10, minutes=5),
        "demo_customer_0001",
        (Step("Where is my order #W0000004?"),),
        "assumed",
    ),
    Script(
        timedelta(hours=11, minutes=30),
        "demo_customer_0002",
        (Step("Please cancel order #W0000004, I no longer need it.", confirm=True),),
        "assumed",
    ),
    Script(timedelta(hours=13, minutes=45), "guest", (Step("I want to talk to a human"),), "handed_off"),
    Script(
        timedelta(hours=15, minutes=0),
        "guest",
        (Step("Can I change my shipping address?", rate="down"),),
        "unresolved",
    ),
)


@dataclass
class Day:
    """What the script did, by UTC hour of DAY."""

    turns: Counter[int] = field(default_factory=Counter)
    denials: Counter[int] = field(default_factory=Counter)
    handoffs: Counter[tuple[int, str]] = field(default_factory=Counter)
    executed: Counter[int] = field(default_factory=Counter)
    outcomes: Counter[tuple[int, Outcome]] = field(default_factory=Counter)
    """(hour, outcome) of each conversation, as the script expects it."""
    ratings: Counter[tuple[int, str]] = field(default_factory=Counter)
    """(hour, up|down) of each rated answer."""
    conversations: dict[str, int] = field(default_factory=dict)
    """Conversation id → the hour it started."""
    answers: dict[str, int] = field(default_factory=dict)
    """Conversation id → the seq of its last answer (message.completed)."""


def play(url: str, script: tuple[Script, ...] = SCRIPT) -> Day:
    day = Day()
    for item in script:
        with time_machine.travel(DAY + item.at, tick=True):
            _conversation(url, item, day)
    return day


def _conversation(url: str, item: Script, day: Day) -> None:
    hour = int(item.at.total_seconds() // 3600)
    with httpx.Client(base_url=url, timeout=30) as http:
        http.headers["Authorization"] = f"Bearer {_token(http, item.who)}"
        cid = str(http.post("/v1/conversations").raise_for_status().json()["id"])
        day.conversations[cid] = hour
        day.outcomes[(hour, item.outcome)] += 1
        last = 0
        for step in item.steps:
            frames = _turn(http, cid, "messages", {"text": step.say}, last)
            last = _record(day, hour, cid, frames)
            if step.rate is not None:
                rated = http.put(f"/v1/conversations/{cid}/answers/{day.answers[cid]}/feedback",
                                 json={"rating": step.rate})  # fmt: skip
                assert rated.status_code == 201, rated.text
                day.ratings[(hour, step.rate)] += 1
            previews = [f.data["preview_id"] for f in frames if f.event == "tool.preview"]
            if step.confirm:
                assert previews, f"{step.say!r} gave no preview: {[f.event for f in frames]}"
                body = {"preview_id": previews[0], "approve": True}
                last = _record(day, hour, cid, _turn(http, cid, "confirmations", body, last))


def _token(http: httpx.Client, who: Who) -> str:
    if who == "guest":
        return str(http.post("/v1/sessions/guest", json={}).raise_for_status().json()["token"])
    return mint_token(SECRET, Principal(tenant="demo", role="customer", user_id=who))


def _turn(http: httpx.Client, cid: str, path: str, body: dict[str, Any], last: int) -> list[Sse]:
    sent = http.post(f"/v1/conversations/{cid}/{path}", json=body)
    assert sent.status_code == 202, sent.text
    frames: list[Sse] = []
    with http.stream(
        "GET", f"/v1/conversations/{cid}/events", headers={"Last-Event-ID": str(last)}
    ) as stream:
        block = ""
        for line in stream.iter_lines():
            if line:
                block += line + "\n"
                continue
            frames += parse_sse(block + "\n")
            block = ""
            if frames and frames[-1].event == "turn.completed":
                return frames
    raise AssertionError(f"the stream ended before turn.completed: {[f.event for f in frames]}")


def _record(day: Day, hour: int, cid: str, frames: list[Sse]) -> int:
    day.turns[hour] += 1
    for frame in frames:
        if frame.event == "tool.denied":
            day.denials[hour] += 1
        elif frame.event == "tool.executed":
            day.executed[hour] += 1
        elif frame.event == "handoff.queued":
            day.handoffs[(hour, str(frame.data["reason"]))] += 1
        elif frame.event == "message.completed":
            day.answers[cid] = frame.id
    return frames[-1].id
