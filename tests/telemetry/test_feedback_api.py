"""The feedback API over real HTTP: who may rate which event, idempotent replacement, bounded and redacted
comments, the transcript's rating, every client error with a code."""

from __future__ import annotations

from pathlib import Path

import httpx
from sqlalchemy import func, select

from copilot.api.app import create_app
from copilot.feedback import MAX_COMMENT_CHARS
from copilot.settings import Settings
from copilot.store.database import make_engine
from copilot.store.schema import feedback
from copilot.tenants import PLATFORM_TENANT
from tests.api.support import SECRET, serve_in_thread, token
from tests.telemetry.outcome_world import Customer


async def test_rating_an_answer(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", secret=SECRET)
    with serve_in_thread(create_app(settings)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            alex = Customer(client, "alex")
            cid = await alex.start()
            await alex.say("Do you offer free shipping?")
            messages = (await alex.transcript())["messages"]
            question, answer = messages[0]["seq"], messages[-1]["seq"]
            assert messages[-1]["role"] == "assistant" and "feedback" not in messages[-1]

            first = await alex.rate("down", "  Mail me at jane.doe@example.com or call 415-555-0100  ")
            assert first.status_code == 201, first.text
            assert first.json()["comment"] == "Mail me at j***@example.com or call [phone]"
            assert (first.json()["revisions"], first.json()["changed"]) == (1, True)
            same = await alex.rate("down", "Mail me at jane.doe@example.com or call 415-555-0100")
            assert same.status_code == 200 and (same.json()["revisions"], same.json()["changed"]) == (
                1,
                False,
            )
            replaced = await alex.rate("up")
            assert replaced.status_code == 200
            assert (replaced.json()["rating"], replaced.json()["comment"], replaced.json()["revisions"]) == (
                "up",
                None,
                2,
            )

            # the transcript (what a reload shows) carries the latest rating; the log keeps both
            assert (await alex.transcript())["messages"][-1]["feedback"] == "up"
            events = (
                await client.get(f"/v1/conversations/{cid}/events?follow=false", headers=alex.headers)
            ).text
            assert events.count("event: feedback.recorded") == 2 and '"replaced": "down"' in events
            listed = await client.get(f"/v1/conversations/{cid}/feedback", headers=token("agent", "ann"))
            assert [(f["seq"], f["rating"]) for f in listed.json()["feedback"]] == [(answer, "up")]

            errors = {
                "user message": await alex.rate("up", seq=question),
                "no such event": await alex.rate("up", seq=9999),
                "another customer": await Customer(client, "sam", cid=cid).rate("up", seq=answer),
                "staff": await Customer(client, "ann", cid=cid, role="agent").rate("up", seq=answer),
                "bad rating": await alex.rate("meh", seq=answer),
                "long comment": await alex.rate("up", "x" * (MAX_COMMENT_CHARS + 1), seq=answer),
                "seq zero": await alex.rate("up", seq=0),
            }
            extra = await client.put(
                f"/v1/conversations/{cid}/answers/{answer}/feedback",
                json={"rating": "up", "stars": 5},
                headers=alex.headers,
            )
            anonymous = await client.put(
                f"/v1/conversations/{cid}/answers/{answer}/feedback", json={"rating": "up"}
            )

    statuses = {name: (r.status_code, r.json()["error"]["code"]) for name, r in errors.items()}
    assert statuses == {
        "user message": (404, "not_found"),
        "no such event": (404, "not_found"),
        "another customer": (404, "not_found"),
        "staff": (403, "forbidden"),
        "bad rating": (422, "invalid_arguments"),
        "long comment": (422, "invalid_arguments"),
        "seq zero": (422, "invalid_arguments"),
    }
    assert "transcript" in errors["user message"].json()["error"]["message"]
    assert (extra.status_code, extra.json()["error"]["code"]) == (422, "invalid_arguments")
    assert (anonymous.status_code, anonymous.json()["error"]["code"]) == (401, "unauthenticated")
    engine = make_engine(settings.resolved_database_url)
    try:
        with engine.connect() as conn:
            assert conn.execute(select(func.count()).select_from(feedback)).scalar_one() == 1
    finally:
        engine.dispose()


async def test_outcomes_api_is_for_admins_of_the_tenant(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "data", secret=SECRET)
    url_path = "/v1/analytics/outcomes"
    platform = token("platform", "root", PLATFORM_TENANT)
    with serve_in_thread(create_app(settings)) as url:
        async with httpx.AsyncClient(base_url=url, timeout=30) as client:
            answers = {
                "customer": await client.get(url_path, headers=token("customer", "alex")),
                "agent": await client.get(url_path, headers=token("agent", "ann")),
                "other tenant": await client.get(
                    url_path, params={"tenant": "acme"}, headers=token("admin", "root")
                ),
                "backwards": await client.get(
                    url_path,
                    params={"since": "2026-12-02", "until": "2026-12-01"},
                    headers=token("admin", "root"),
                ),
                "not a time": await client.get(
                    url_path, params={"since": "yesterday"}, headers=token("admin", "root")
                ),
                "nobody": await client.get(url_path),
            }
            own = await client.get(url_path, params={"tenant": "demo"}, headers=token("admin", "root"))
            everyone = await client.get(url_path, headers=platform)
    codes = {name: (r.status_code, r.json()["error"]["code"]) for name, r in answers.items()}
    assert codes == {
        "customer": (403, "forbidden"),
        "agent": (403, "forbidden"),
        "other tenant": (403, "forbidden"),
        "backwards": (422, "invalid_arguments"),
        "not a time": (422, "invalid_arguments"),
        "nobody": (401, "unauthenticated"),
    }
    assert "--role admin" in answers["customer"].json()["error"]["message"]
    assert own.status_code == 200 and own.json()["tenant"] == "demo"
    assert own.json()["total"]["conversations"] == 0 and own.json()["total"]["resolution_rate"] is None
    assert everyone.status_code == 200 and everyone.json()["tenant"] is None
