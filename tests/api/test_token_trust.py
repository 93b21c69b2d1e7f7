"""Token trust over real HTTP: a tenant's customer key mints only customer tokens of that tenant; server keys
sign staff tokens; `kid`, `aud` and `iss` are checked; keys rotate without downtime; `/demo?user=` signs in
only as a demo user of the generated demo store."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import jwt
import pytest

from copilot.api.app import create_app
from copilot.auth import key_ring, mint_customer_token, mint_token, verify_token
from copilot.keys import KeyRing, derive_tenant_key
from copilot.principal import Principal
from copilot.runtime import assemble
from copilot.settings import Settings
from copilot.store.database import make_engine
from tests.api.support import OnceDecider, ScriptedRunner, serve_in_thread
from tests.gateway.retail import seed_small

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

OLD, NEW = "old-server-secret-" + "o" * 30, "new-server-secret-" + "n" * 30
ACME_1, ACME_2 = "acme-key-one-" + "1" * 30, "acme-key-two-" + "2" * 30
AGENT = Principal("demo", "agent", "ann")


@contextmanager
def server(path: Path, **settings: Any) -> Iterator[str]:
    built = Settings(data_dir=path, **{"secret": NEW, "previous_secrets": [OLD],
                                       "tenant_keys": {"acme": [ACME_1, ACME_2]}, **settings})  # fmt: skip
    engine = make_engine(built.resolved_database_url)
    seed_small(engine)
    runtime = assemble(built, runner=ScriptedRunner(), decider=OnceDecider(), engine=engine)
    try:
        with serve_in_thread(create_app(built, runtime=runtime)) as url:
            yield url
    finally:
        engine.dispose()


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with server(tmp_path_factory.mktemp("trust")) as url:
        yield url


def status(base: str, token: str) -> int:
    response = httpx.post(
        f"{base}/v1/conversations", headers={"Authorization": f"Bearer {token}"}, timeout=10
    )
    return response.status_code


def forged(secret: str, kid: str | None, **claims: Any) -> str:
    body = {"sub": "mallory", "role": "customer", "tenant": "acme", "aud": "support-copilot", "iss": "acme",
            "exp": datetime.now(UTC) + timedelta(hours=1), **claims}  # fmt: skip
    return jwt.encode(body, secret, algorithm="HS256", headers={"kid": kid} if kid else None)


def test_a_shop_mints_its_customers_with_its_tenant_key(base: str) -> None:
    for key in (ACME_1, ACME_2):  # both configured keys are active
        assert status(base, mint_customer_token(key, "acme", "acme_user_1")) == 201
    demo_key = derive_tenant_key(NEW, "demo")  # an unconfigured tenant: derived from the server key
    assert status(base, mint_customer_token(demo_key, "demo", "demo_customer_0001")) == 201


@pytest.mark.parametrize(
    "claims",
    [{"role": "admin"}, {"role": "agent"}, {"role": "supervisor"}, {"tenant": "demo"}, {"tenant": "demo", "iss": "demo"}],
    ids=["admin", "agent", "supervisor", "other-tenant", "other-tenant-and-issuer"],
)  # fmt: skip
def test_a_tenant_key_mints_nothing_but_its_customers(base: str, claims: dict[str, Any]) -> None:
    kid = key_ring(Settings(secret=NEW, tenant_keys={"acme": [ACME_1]}), NEW).customer_key("acme").kid
    assert status(base, forged(ACME_1, kid, **claims)) == 401


def test_kid_aud_and_iss_are_checked(base: str) -> None:
    ring = KeyRing.build(NEW)
    staff = {"role": "agent", "tenant": "demo", "iss": "support-copilot"}
    assert status(base, forged(NEW, ring.signing.kid, **staff)) == 201
    refused = [
        forged(NEW, None, **staff),  # no kid
        forged(NEW, "s-000000000000", **staff),  # unknown kid
        forged(NEW, ring.signing.kid, **{**staff, "aud": "another-service"}),
        forged(NEW, ring.signing.kid, **{**staff, "iss": "someone-else"}),
        forged(NEW, ring.signing.kid, **{**staff, "aud": None}),
        forged(derive_tenant_key(NEW, "acme"), f"t-acme-{ring.signing.kid[2:]}"),  # a derived key, but acme's are configured
        forged(ACME_1, ring.signing.kid, **staff),  # a tenant key posing as the server's
    ]  # fmt: skip
    assert [status(base, token) for token in refused] == [401] * len(refused)


def test_keys_rotate_without_downtime(base: str, tmp_path: Path) -> None:
    old_token, new_token = mint_token(OLD, AGENT), mint_token(NEW, AGENT)
    assert (status(base, old_token), status(base, new_token)) == (201, 201)  # both during the rotation
    with server(tmp_path, previous_secrets=[]) as after:  # the old secret retired
        assert (status(after, old_token), status(after, new_token)) == (401, 201)


def test_demo_signs_in_only_the_generated_stores_demo_users(base: str, tmp_path: Path) -> None:
    page = httpx.get(f"{base}/demo", params={"user": "demo_customer_0001"}, timeout=10)
    assert page.status_code == 200
    token = page.text.split('data-token="')[-1].split('"')[0]
    assert verify_token(KeyRing.build(NEW), token) == Principal("demo", "customer", "demo_customer_0001")
    for user in ("admin", "ethan_kim_8860", "demo_customer_0009", "demo_customer_0001 x"):
        refused = httpx.get(f"{base}/demo", params={"user": user}, timeout=10)
        assert refused.status_code == 403 and "demo user" in refused.json()["error"]["message"]
    other_data = tmp_path / "db.json"
    other_data.write_text("{}")
    with server(tmp_path / "other", data_path=other_data) as url:  # running on other data: never
        assert httpx.get(f"{url}/demo", params={"user": "demo_customer_0001"}, timeout=10).status_code == 403
        assert httpx.get(f"{url}/demo", timeout=10).status_code == 200  # the guest page still works
