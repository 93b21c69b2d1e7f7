"""A real `copilot serve` process with COPILOT_LOG_FORMAT=json and tracing to a local OTLP sink: every stderr
line is JSON, the turn's line carries the trace id of the turn's audit row, and nothing the customer sent
(email, payment-method id, street address — in the message and in a request URL) appears unredacted."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import ClassVar

import httpx
import pytest
from sqlalchemy import create_engine, select

from copilot.store.schema import audit_log
from tests.api.support import SECRET, token

EMAIL, CARD, STREET = "ann.lee@shop.io", "gift_card_0000001", "12 Main Street"
TEXT = f"Where is my order #W0000001? My email is {EMAIL}, I paid with {CARD}, ship to {STREET}."


class _Sink(BaseHTTPRequestHandler):
    posts: ClassVar[list[str]] = []

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        _Sink.posts.append(self.path)
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        pass


@pytest.fixture
def otlp() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/traces"
    finally:
        server.shutdown()
        server.server_close()


def _port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _turn(base: str) -> str:
    customer = token("customer", "demo_customer_0001")
    with httpx.Client(base_url=base, timeout=10, headers=customer) as http:
        cid = str(http.post("/v1/conversations").json()["id"])
        assert http.post(f"/v1/conversations/{cid}/messages", json={"text": TEXT}).status_code == 202
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:  # a URL carrying the customer's data, as some clients send it
            url = f"/v1/conversations/{cid}/events?follow=false&email={EMAIL}&pm={CARD}&ship={STREET}"
            if "turn.completed" in http.get(url).text:
                return cid
            time.sleep(0.2)
    raise AssertionError("the turn did not complete")


def test_serve_writes_json_lines_with_the_audit_trace_id_and_no_customer_data(
    tmp_path: Path, otlp: str
) -> None:
    port, errors = _port(), tmp_path / "stderr.log"
    env = {**os.environ, "COPILOT_DATA_DIR": str(tmp_path / "data"), "COPILOT_SECRET": SECRET,
           "COPILOT_LOG_FORMAT": "json", "COPILOT_OTLP_ENDPOINT": otlp}  # fmt: skip
    with errors.open("w") as stderr:
        process = subprocess.Popen(
            [str(Path(sys.executable).parent / "copilot"), "serve", "--port", str(port)],
            env=env, stdout=subprocess.DEVNULL, stderr=stderr,
        )  # fmt: skip
        try:
            base = f"http://127.0.0.1:{port}"
            deadline = time.monotonic() + 60
            while time.monotonic() < deadline:
                try:
                    if httpx.get(f"{base}/healthz", timeout=1).status_code == 200:
                        break
                except httpx.TransportError:
                    time.sleep(0.2)
            cid = _turn(base)
        finally:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=60)

    lines = [json.loads(line) for line in errors.read_text().splitlines()]  # every line parses
    engine = create_engine(f"sqlite:///{tmp_path / 'data' / 'copilot.db'}")
    with engine.connect() as conn:
        traces = {
            t for (t,) in conn.execute(select(audit_log.c.trace_id).where(audit_log.c.conversation_id == cid))
        }
    engine.dispose()
    [finished] = [line for line in lines if line.get("event") == "turn.finished"]
    assert finished["conversation_id"] == cid and finished["tenant"] == "demo" and finished["turn_id"]
    assert traces == {finished["trace_id"]} and len(str(finished["trace_id"])) == 32
    access = [line for line in lines if line.get("event") == "http.request" and "email=" in str(line["path"])]
    assert access and "email=a***@shop.io&pm=gift_card_***0001&ship=[address]" in str(access[0]["path"])
    text = errors.read_text()
    assert EMAIL not in text and CARD not in text and STREET not in text
    assert "ann.lee%40shop.io" not in text and "12%20Main%20Street" not in text
    assert _Sink.posts and set(_Sink.posts) == {"/v1/traces"}  # the spans were exported on shutdown
