"""Bad input and abuse over real HTTP (uvicorn): body size, bounded integers, mutually exclusive fields, 405
with Allow, security headers on the pages, per-principal caps on open streams and on messages per minute."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from copilot.api.app import create_app
from copilot.api.limits import MAX_INT
from copilot.runtime import assemble
from copilot.settings import Settings
from tests.api.support import SECRET, OnceDecider, ScriptedRunner, serve_in_thread, token

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

ADMIN = token("admin", "root")
BIG = str(2**63)


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = Settings(
        data_dir=tmp_path_factory.mktemp("abuse"), secret=SECRET, max_body_bytes=4096,
        max_streams_per_user=2, messages_per_minute=3,
    )  # fmt: skip
    runtime = assemble(settings, runner=ScriptedRunner(), decider=OnceDecider(), facts={"tools": 16})
    with serve_in_thread(create_app(settings, runtime=runtime)) as url:
        yield url


@pytest.fixture
async def client(base: str) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=base, timeout=10) as http:
        yield http


async def _conversation(client: httpx.AsyncClient, headers: dict[str, str]) -> str:
    response = await client.post("/v1/conversations", headers=headers)
    assert response.status_code == 201, response.text
    cid: str = response.json()["id"]
    return cid


def _error(response: httpx.Response, status: int, code: str) -> str:
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert body["code"] == code, body
    message: str = body["message"]
    return message


async def test_a_body_over_the_limit_is_413_before_it_is_parsed(client: httpx.AsyncClient) -> None:
    headers = token("customer", "big")
    cid = await _conversation(client, headers)
    url = f"/v1/conversations/{cid}/messages"
    declared = await client.post(url, content=b'{"text": "' + b"x" * 5000 + b'"}', headers=headers)
    assert "larger than 4096 bytes" in _error(declared, 413, "payload_too_large")

    async def chunks() -> AsyncIterator[bytes]:  # no Content-Length: counted while it is read
        yield b'{"text": "'
        for _ in range(10):
            yield b"y" * 1000
        yield b'"}'

    chunked = await client.post(
        url, content=chunks(), headers={**headers, "content-type": "application/json"}
    )
    _error(chunked, 413, "payload_too_large")
    small = await client.post(url, json={"text": "hello"}, headers=headers)
    assert small.status_code == 202


@pytest.mark.parametrize("value", [BIG, str(2**64 + 5), "-1", "1e3", "12x"])
async def test_last_event_id_must_be_a_bounded_integer(client: httpx.AsyncClient, value: str) -> None:
    headers = token("customer", "resumer")
    cid = await _conversation(client, headers)
    url = f"/v1/conversations/{cid}/events?follow=false"
    message = _error(
        await client.get(url, headers={**headers, "Last-Event-ID": value}), 422, "invalid_arguments"
    )
    assert str(MAX_INT) in message
    ok = await client.get(url, headers={**headers, "Last-Event-ID": str(MAX_INT)})
    assert ok.status_code == 200
    by_query = await client.get(f"{url}&after={value}", headers=headers)
    assert by_query.status_code == 422 and by_query.json()["error"]["code"] == "invalid_arguments"


@pytest.mark.parametrize(
    "path",
    [
        f"/v1/policy/versions?offset={BIG}",
        f"/v1/policy/changes?offset={2**70}",
        f"/v1/audit?offset={BIG}",
        f"/v1/policy/versions/{BIG}",
    ],
)
async def test_integers_beyond_64_bits_are_422(client: httpx.AsyncClient, path: str) -> None:
    message = _error(await client.get(path, headers=ADMIN), 422, "invalid_arguments")
    assert "less than or equal to 9223372036854775807" in message


@pytest.mark.parametrize(
    ("path", "body"),
    [
        ("/v1/policy/rollback", {"version": 2**70}),
        ("/v1/policy/simulate", {"principal": {"role": "agent"}, "tool": "calculate", "version": 2**64}),
        ("/v1/policy/diff-decisions", {"base": 2**63}),
    ],
)
async def test_versions_in_bodies_are_bounded(
    client: httpx.AsyncClient, path: str, body: dict[str, object]
) -> None:
    _error(await client.post(path, json=body, headers=ADMIN), 422, "invalid_arguments")


@pytest.mark.parametrize("path", ["/v1/policy/simulate", "/v1/policy/diff-decisions", "/v1/policy/validate"])
async def test_rules_and_csv_together_are_422(client: httpx.AsyncClient, path: str) -> None:
    body: dict[str, object] = {"rules": [], "csv": ""}
    if path.endswith("simulate"):
        body |= {"principal": {"role": "agent"}, "tool": "calculate"}
    message = _error(await client.post(path, json=body, headers=ADMIN), 422, "invalid_arguments")
    assert "`rules`" in message and "`csv`" in message


async def test_malformed_rule_rows_are_refused_not_crashed_on(client: httpx.AsyncClient) -> None:
    empty = await client.post("/v1/policy/diff-decisions", json={"rules": [[]]}, headers=ADMIN)
    _error(empty, 422, "invalid_arguments")
    short = await client.post("/v1/policy/diff-decisions", json={"rules": [["p", "x"]]}, headers=ADMIN)
    assert short.status_code == 422 and short.json()["error"]["code"] == "policy_invalid"


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("DELETE", "/v1/conversations", "GET, POST"),
        ("PUT", "/v1/sessions/guest", "POST"),
        ("POST", "/console", "GET"),
        ("POST", "/static/console.css", "GET, HEAD"),
    ],
)
async def test_a_wrong_method_is_405_with_allow(
    client: httpx.AsyncClient, method: str, path: str, allow: str
) -> None:
    response = await client.request(method, path, headers=ADMIN)
    message = _error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == allow
    assert allow in message


@pytest.mark.parametrize("path", ["/console", "/admin", "/demo", "/"])
async def test_pages_carry_csp_and_cannot_be_framed(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    assert response.status_code == 200
    csp = response.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "object-src 'none'" in csp
    if path in ("/console", "/admin"):
        assert "unsafe-inline" not in csp
    assert response.headers["x-frame-options"] == "DENY"
    assert response.headers["x-content-type-options"] == "nosniff"
    api = await client.get("/healthz")
    assert "content-security-policy" not in api.headers


async def test_open_streams_are_capped_per_principal(client: httpx.AsyncClient) -> None:
    headers = token("customer", "streamer")
    cid = await _conversation(client, headers)
    url = f"/v1/conversations/{cid}/events"
    async with (
        client.stream("GET", url, headers=headers) as first,
        client.stream("GET", url, headers=headers) as second,
    ):
        assert (first.status_code, second.status_code) == (200, 200)
        third = await client.get(url, headers=headers)
        assert "2 open event streams" in _error(third, 429, "rate_limited")
        other = token("customer", "someone-else")
        theirs = await client.get(
            f"/v1/conversations/{await _conversation(client, other)}/events?follow=false", headers=other
        )
        assert theirs.status_code == 200  # per principal
    for _ in range(50):  # closing a stream gives its slot back
        again = await client.get(f"{url}?follow=false", headers=headers)
        if again.status_code == 200:
            break
        await asyncio.sleep(0.05)
    assert again.status_code == 200


async def test_messages_per_minute_are_capped_per_principal(client: httpx.AsyncClient) -> None:
    headers = token("customer", "chatty")
    cid = await _conversation(client, headers)
    statuses = []
    for n in range(5):
        response = await client.post(
            f"/v1/conversations/{cid}/messages", json={"text": f"m{n}"}, headers=headers
        )
        statuses.append(response.status_code)
    assert statuses == [202, 202, 202, 429, 429]
    assert "3 messages in the last minute" in _error(response, 429, "rate_limited")
    other = token("customer", "quiet")
    fresh = await client.post(
        f"/v1/conversations/{await _conversation(client, other)}/messages", json={"text": "hi"}, headers=other
    )
    assert fresh.status_code == 202


def test_settings_bound_the_limits(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="max_body_bytes"):
        Settings(data_dir=tmp_path, max_body_bytes=10)
