"""Staff sign in with an OIDC issuer's tokens, over real HTTP, against a local JWKS server (http.server on
127.0.0.1): RS256 tokens whose kid is in the issuer's JWKS sign in agents and admins; a key the issuer adds
later is fetched; customers, the platform admin, another audience, an expired token, a forged signature and an
unknown key are refused (401)."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import rsa
from jwt.algorithms import RSAAlgorithm

from copilot.api.app import create_app
from copilot.runtime import assemble
from copilot.settings import Settings
from copilot.store.database import make_engine
from copilot.tenants import PLATFORM_TENANT
from tests.api.support import OnceDecider, ScriptedRunner, serve_in_thread
from tests.gateway.retail import seed_small

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

ISSUER = "https://idp.example.test/realms/support"
SECRET = "server-secret-" + "o" * 40
KEYS = {"k1": rsa.generate_private_key(public_exponent=65537, key_size=2048)}
PUBLISHED: list[dict[str, Any]] = []


def publish(kid: str) -> None:
    jwk = RSAAlgorithm.to_jwk(KEYS[kid].public_key(), as_dict=True)
    PUBLISHED.append({**jwk, "kid": kid, "alg": "RS256", "use": "sig"})


class Jwks(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        body = json.dumps({"keys": PUBLISHED}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: Any) -> None:
        pass


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    publish("k1")
    jwks = ThreadingHTTPServer(("127.0.0.1", 0), Jwks)
    threading.Thread(target=jwks.serve_forever, daemon=True).start()
    settings = Settings(data_dir=Path(tmp_path_factory.mktemp("oidc")), secret=SECRET, oidc_issuer=ISSUER,
                        oidc_jwks_url=f"http://127.0.0.1:{jwks.server_address[1]}/certs", oidc_refetch_seconds=0)  # fmt: skip
    engine = make_engine(settings.resolved_database_url)
    seed_small(engine)
    runtime = assemble(settings, runner=ScriptedRunner(), decider=OnceDecider(), engine=engine)
    try:
        with (
            serve_in_thread(create_app(settings, runtime=runtime)) as url,
            httpx.Client(base_url=url) as client,
        ):
            yield client
    finally:
        jwks.shutdown()
        engine.dispose()


def idp_token(kid: str = "k1", signer: str | None = None, **claims: Any) -> dict[str, str]:
    body = {"sub": "alice", "role": "agent", "tenant": "demo", "aud": "support-copilot", "iss": ISSUER,
            "exp": datetime.now(UTC) + timedelta(minutes=10), **claims}  # fmt: skip
    token = jwt.encode(body, KEYS[signer or kid], algorithm="RS256", headers={"kid": kid})
    return {"Authorization": f"Bearer {token}"}


def test_the_issuers_staff_sign_in(http: httpx.Client) -> None:
    queue = http.get("/v1/handoffs", headers=idp_token())
    assert queue.status_code == 200, queue.text
    policy = http.get("/v1/policy", headers=idp_token(role="admin", sub="root"))
    assert policy.status_code == 200 and policy.json()["tenant"] == "demo", policy.text
    KEYS["k2"] = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    publish("k2")  # the issuer rotates: a kid the cache does not know is fetched
    rotated = http.get("/v1/handoffs", headers=idp_token("k2"))
    assert rotated.status_code == 200, rotated.text


@pytest.mark.parametrize(
    "token",
    [
        lambda: idp_token(role="customer", sub="demo_customer_0001"),
        lambda: idp_token(role="platform", tenant=PLATFORM_TENANT),
        lambda: idp_token(aud="another-service"),
        lambda: idp_token(exp=datetime.now(UTC) - timedelta(minutes=1)),
        lambda: idp_token(signer="k0"),  # the issuer's kid, another key's signature
        lambda: idp_token(kid="k0"),  # a key the issuer never published
        lambda: {"Authorization": "Bearer " + jwt.encode(  # the server's secret posing as the issuer
            {"sub": "eve", "role": "admin", "tenant": "demo", "aud": "support-copilot", "iss": ISSUER,
             "exp": datetime.now(UTC) + timedelta(minutes=5)}, SECRET, algorithm="HS256")},
    ],
    ids=["customer", "platform", "audience", "expired", "forged", "unknown-kid", "hs256"],
)  # fmt: skip
def test_everything_else_is_refused(http: httpx.Client, token: Any) -> None:
    KEYS.setdefault("k0", rsa.generate_private_key(public_exponent=65537, key_size=2048))
    refused = http.get("/v1/handoffs", headers=token())
    assert refused.status_code == 401, refused.text
    assert refused.json()["error"]["code"] == "unauthenticated"
