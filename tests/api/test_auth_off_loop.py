"""The async auth step never waits on I/O in the event loop, over real HTTP: while a managed key's database
lookup is held up (a real PostgreSQL table lock) or an OIDC issuer's JWKS answers slowly, the same worker keeps
answering /healthz at once, and the held-up request then signs in as before."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from functools import partial
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm
from sqlalchemy import Engine, text

from copilot.api.app import create_app
from copilot.auth import mint_customer_token
from copilot.keys import WouldBlock, cache_only
from copilot.keywrap import KeyWrap
from copilot.runtime import assemble
from copilot.settings import Settings
from copilot.store.database import make_engine
from copilot.tenant_keys import TenantKeyStore
from tests.api.support import OnceDecider, ScriptedRunner, serve_in_thread
from tests.databases import postgres_database
from tests.gateway.retail import seed_small

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

SECRET = "server-secret-" + "l" * 40
ISSUER = "https://idp.example.test/slow"
SIGNER = rsa.generate_private_key(public_exponent=65537, key_size=2048)
HOLD = 1.0


class SlowJwks(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        time.sleep(HOLD)
        jwk = {**RSAAlgorithm.to_jwk(SIGNER.public_key(), as_dict=True), "kid": "k1", "alg": "RS256"}
        body = json.dumps({"keys": [jwk]}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


def serve(settings: Settings, engine: Engine) -> Iterator[httpx.Client]:
    runtime = assemble(settings, runner=ScriptedRunner(), decider=OnceDecider(), engine=engine)
    with (
        serve_in_thread(create_app(settings, runtime=runtime)) as url,
        httpx.Client(base_url=url, timeout=10) as c,
    ):
        yield c


def healthz_while(http: httpx.Client, held: Callable[[], httpx.Response]) -> tuple[float, httpx.Response]:
    """Send `held()` (a request that waits on I/O for HOLD s); the slowest /healthz answer meanwhile."""
    with ThreadPoolExecutor(1) as pool:
        pending = pool.submit(held)
        time.sleep(0.2)  # the held request is in the auth step now
        slowest = 0.0
        while not pending.done():
            started = time.monotonic()
            assert http.get("/healthz").status_code == 200
            slowest = max(slowest, time.monotonic() - started)
            time.sleep(0.05)
        return slowest, pending.result()


@pytest.mark.postgres
def test_a_managed_key_lookup_does_not_block_the_loop(tmp_path: Path) -> None:
    with postgres_database() as url:
        engine = make_engine(url)
        seed_small(engine)
        try:
            settings = Settings(data_dir=tmp_path, secret=SECRET, database_url=url)
            for http in serve(settings, engine):
                _, secret = TenantKeyStore(engine, KeyWrap(SECRET)).create("demo", "ops")  # not in its cache
                token = mint_customer_token(secret, "demo", "demo_user")
                held = partial(http.post, "/v1/conversations", headers={"Authorization": f"Bearer {token}"})
                with engine.connect() as lock:
                    lock.execute(text("LOCK TABLE tenant_keys IN ACCESS EXCLUSIVE MODE"))
                    release = threading.Timer(HOLD, lock.rollback)
                    release.start()
                    slowest, response = healthz_while(http, held)
                    release.join()
                assert response.status_code == 201, response.text  # signs in as before
                assert slowest < HOLD / 2, f"/healthz waited {slowest:.2f} s behind the key lookup"
        finally:
            engine.dispose()


def test_a_jwks_fetch_does_not_block_the_loop(tmp_path: Path) -> None:
    jwks = ThreadingHTTPServer(("127.0.0.1", 0), SlowJwks)
    threading.Thread(target=jwks.serve_forever, daemon=True).start()
    settings = Settings(data_dir=tmp_path, secret=SECRET, oidc_issuer=ISSUER,
                        oidc_jwks_url=f"http://127.0.0.1:{jwks.server_address[1]}/certs")  # fmt: skip
    engine = make_engine(settings.resolved_database_url)
    seed_small(engine)
    body = {"sub": "alice", "role": "agent", "tenant": "demo", "aud": "support-copilot", "iss": ISSUER,
            "exp": datetime.now(UTC) + timedelta(minutes=10)}  # fmt: skip
    token = jwt.encode(body, SIGNER, algorithm="RS256", headers={"kid": "k1"})
    try:
        for http in serve(settings, engine):
            held = partial(http.get, "/v1/conversations", headers={"Authorization": f"Bearer {token}"})
            slowest, response = healthz_while(http, held)
            assert response.status_code == 200, response.text
            assert slowest < HOLD / 2, f"/healthz waited {slowest:.2f} s behind the JWKS fetch"
    finally:
        jwks.shutdown()
        engine.dispose()


def test_a_cache_miss_would_block_and_a_hit_does_not(tmp_path: Path) -> None:
    engine = make_engine(Settings(data_dir=tmp_path).resolved_database_url)
    store = TenantKeyStore(engine, KeyWrap(SECRET))
    record, _ = store.create("demo", "ops")
    with cache_only(), pytest.raises(WouldBlock):
        store.find(record.kid)
    assert store.find(record.kid) is not None and store.manages("demo")
    with cache_only():
        assert store.find(record.kid) is not None and store.manages("demo")  # cached: no I/O
    engine.dispose()
