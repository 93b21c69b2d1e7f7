"""Tenant customer-token keys managed by the platform admin over real HTTP (stored in the database, beside
COPILOT_TENANT_KEYS): the secret is shown once; a rotated key keeps verifying through its grace period and
stops when it ends or is retired; a managed tenant's derived key stops; a tenant key never mints staff, admin
or platform tokens nor another tenant's customers; only the platform admin manages keys."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from copilot.api.app import create_app
from copilot.auth import mint_customer_token, mint_token
from copilot.keys import derive_tenant_key, fingerprint
from copilot.principal import Principal
from copilot.runtime import assemble
from copilot.settings import Settings
from copilot.store.database import make_engine
from copilot.tenants import PLATFORM_TENANT
from tests.api.support import OnceDecider, ScriptedRunner, serve_in_thread
from tests.gateway.retail import seed_small

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

SECRET = "server-secret-" + "k" * 40
PLATFORM = {"Authorization": f"Bearer {mint_token(SECRET, Principal(PLATFORM_TENANT, 'platform', 'ops'))}"}


def bearer(token: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {token}"}


@pytest.fixture(scope="module")
def http(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    settings = Settings(data_dir=Path(tmp_path_factory.mktemp("tenant-keys")), secret=SECRET)
    engine = make_engine(settings.resolved_database_url)
    seed_small(engine)
    runtime = assemble(settings, runner=ScriptedRunner(), decider=OnceDecider(), engine=engine)
    try:
        with (
            serve_in_thread(create_app(settings, runtime=runtime)) as url,
            httpx.Client(base_url=url, timeout=10) as c,
        ):
            for tenant in ("shop", "other"):
                assert c.post("/v1/tenants", json={"tenant": tenant}, headers=PLATFORM).status_code == 201
            yield c
    finally:
        engine.dispose()


def signs_in(http: httpx.Client, token: str) -> int:
    return http.post("/v1/conversations", headers=bearer(token)).status_code


def create(http: httpx.Client, tenant: str, path: str = "keys", **body: Any) -> tuple[str, str]:
    response = http.post(f"/v1/tenants/{tenant}/{path}", json=body or None, headers=PLATFORM)
    assert response.status_code == 201, response.text
    data = response.json()
    assert data["key"]["kid"].startswith(f"t-{tenant}-") and data["key"]["status"] == "active"
    return data["key"]["kid"], data["secret"]


def customer(secret: str, tenant: str = "shop") -> str:
    return mint_customer_token(secret, tenant, f"{tenant}_user")


def test_create_rotate_retire(http: httpx.Client) -> None:
    derived = derive_tenant_key(SECRET, "shop")
    assert signs_in(http, customer(derived)) == 201  # before: the key derived from the server's
    kid1, key1 = create(http, "shop")
    listed = http.get("/v1/tenants/shop/keys", headers=PLATFORM)
    assert [k["kid"] for k in listed.json()["keys"]] == [kid1] and key1 not in listed.text  # shown once
    assert signs_in(http, customer(key1)) == 201
    assert signs_in(http, customer(derived)) == 401  # the tenant's keys are managed now

    kid2, key2 = create(http, "shop", "keys/rotate", grace_seconds=3600)
    assert signs_in(http, customer(key1)) == 201 and signs_in(http, customer(key2)) == 201  # grace period
    states = {
        k["kid"]: k["status"] for k in http.get("/v1/tenants/shop/keys", headers=PLATFORM).json()["keys"]
    }
    assert states == {kid1: "expiring", kid2: "active"}
    retired = http.delete(f"/v1/tenants/shop/keys/{kid1}", headers=PLATFORM)
    assert retired.status_code == 200 and retired.json()["key"]["status"] == "retired", retired.text
    assert signs_in(http, customer(key1)) == 401 and signs_in(http, customer(key2)) == 201

    _, key3 = create(http, "shop", "keys/rotate", grace_seconds=1)
    assert signs_in(http, customer(key2)) == 201  # still inside its grace
    time.sleep(1.2)
    assert signs_in(http, customer(key2)) == 401 and signs_in(http, customer(key3)) == 201
    assert (
        signs_in(http, customer(derive_tenant_key(SECRET, "other"), "other")) == 201
    )  # other tenants unaffected


def forged(secret: str, kid: str, **claims: Any) -> str:
    body = {"sub": "mallory", "role": "customer", "tenant": "other", "aud": "support-copilot", "iss": "other",
            "exp": datetime.now(UTC) + timedelta(hours=1), **claims}  # fmt: skip
    return jwt.encode(body, secret, algorithm="HS256", headers={"kid": kid})


@pytest.mark.parametrize(
    "claims",
    [{"role": r} for r in ("agent", "supervisor", "admin")]
    + [{"role": "platform", "tenant": PLATFORM_TENANT, "iss": PLATFORM_TENANT},
       {"role": "admin", "iss": "support-copilot"}, {"tenant": "shop"}, {"tenant": "shop", "iss": "shop"},
       {"tenant": "demo", "iss": "demo"}],
)  # fmt: skip
def test_a_managed_key_mints_nothing_but_its_tenants_customers(
    http: httpx.Client, claims: dict[str, Any]
) -> None:
    kid, secret = create(http, "other")
    assert signs_in(http, forged(secret, kid)) == 201  # its tenant's customer
    assert signs_in(http, forged(secret, kid, **claims)) == 401
    for posing in ("t-shop-", "s-", "t-demo-", f"t-{PLATFORM_TENANT}-"):  # another key's id, same secret
        assert signs_in(http, forged(secret, posing + fingerprint(secret), **claims)) == 401


def test_only_the_platform_admin_manages_keys(http: httpx.Client) -> None:
    for who in (Principal("shop", "admin", "root"), Principal("demo", "admin", "root"),
                Principal("shop", "supervisor", "sam")):  # fmt: skip
        headers = bearer(mint_token(SECRET, who))
        assert http.get("/v1/tenants/shop/keys", headers=headers).status_code == 403
        assert http.post("/v1/tenants/shop/keys", headers=headers).status_code == 403
    missing = http.post("/v1/tenants/nope/keys", headers=PLATFORM)
    assert missing.status_code == 404 and "GET /v1/tenants" in missing.json()["error"]["message"]
    unknown = http.delete("/v1/tenants/shop/keys/t-shop-000000000000", headers=PLATFORM)
    assert unknown.status_code == 404
    bad = http.post("/v1/tenants/shop/keys/rotate", json={"grace_seconds": -1}, headers=PLATFORM)
    assert bad.status_code == 422
