"""Managed tenant key secrets are encrypted at rest under the key-encryption key (copilot/keywrap.py), over real
HTTP and a real SQLite file: the column never holds the secret and tokens signed with it verify; plaintext rows
from migration 0010 are encrypted at start-up and keep working; a previous KEK rotates; a wrong KEK refuses to
start with a clear message, and a row only another worker's KEK opens is a 401 that says so, never a 500."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import httpx
import pytest
from hypothesis import given
from hypothesis import settings as hsettings
from hypothesis import strategies as st
from sqlalchemy import Engine, insert, select

from copilot.api.app import create_app
from copilot.auth import mint_customer_token, mint_token, resolve_secret
from copilot.errors import CopilotError, ErrorCode
from copilot.keys import tenant_key
from copilot.keywrap import KeyWrap, is_sealed
from copilot.principal import Principal
from copilot.runtime import assemble
from copilot.settings import Settings
from copilot.store.database import make_engine
from copilot.store.schema import tenant_keys
from copilot.tenant_keys import TenantKeyStore
from copilot.tenants import PLATFORM_TENANT
from tests.api.support import OnceDecider, ScriptedRunner, serve_in_thread
from tests.gateway.retail import seed_small

pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnraisableExceptionWarning")

SECRET = "server-secret-" + "e" * 40
KEK = "kek-one-" + "1" * 40
PLATFORM = {"Authorization": f"Bearer {mint_token(SECRET, Principal(PLATFORM_TENANT, 'platform', 'ops'))}"}


def settings_of(data_dir: Path, **extra: object) -> Settings:
    return Settings(data_dir=data_dir, secret=SECRET, **extra)  # type: ignore[arg-type]


@pytest.fixture
def engine(tmp_path: Path) -> Iterator[Engine]:
    built = make_engine(settings_of(tmp_path).resolved_database_url)
    seed_small(built)
    try:
        yield built
    finally:
        built.dispose()


def serve(settings: Settings, engine: Engine) -> Iterator[httpx.Client]:
    runtime = assemble(settings, runner=ScriptedRunner(), decider=OnceDecider(), engine=engine)
    with (
        serve_in_thread(create_app(settings, runtime=runtime)) as url,
        httpx.Client(base_url=url, timeout=10) as c,
    ):
        yield c


def stored(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return {r.kid: r.secret for r in conn.execute(select(tenant_keys.c.kid, tenant_keys.c.secret))}


def signs_in(http: httpx.Client, secret: str, tenant: str = "shop") -> httpx.Response:
    token = mint_customer_token(secret, tenant, f"{tenant}_user")
    return http.post("/v1/conversations", headers={"Authorization": f"Bearer {token}"})


def test_the_column_never_holds_the_secret_and_tokens_verify(tmp_path: Path, engine: Engine) -> None:
    for http in serve(settings_of(tmp_path, key_encryption_key=KEK), engine):
        assert http.post("/v1/tenants", json={"tenant": "shop"}, headers=PLATFORM).status_code == 201
        created = http.post("/v1/tenants/shop/keys", headers=PLATFORM).json()
        kid, secret = created["key"]["kid"], created["secret"]
        column = stored(engine)[kid]
        assert secret not in column and is_sealed(column)
        assert signs_in(http, secret).status_code == 201


def insert_plaintext(engine: Engine, tenant: str, secret: str) -> str:
    kid = tenant_key(tenant, secret).kid
    with engine.begin() as conn:  # a row as migration 0010's code wrote it
        conn.execute(insert(tenant_keys).values(kid=kid, tenant=tenant, secret=secret,
                                                created_at=datetime.now(UTC), created_by="old"))  # fmt: skip
    return kid


def test_plaintext_rows_are_encrypted_at_start_up_and_keep_working(tmp_path: Path, engine: Engine) -> None:
    secret = "plain-" + "p" * 50
    kid = insert_plaintext(engine, "demo", secret)  # no COPILOT_KEY_ENCRYPTION_KEY: derived from the secret
    for http in serve(settings_of(tmp_path), engine):
        assert secret not in stored(engine)[kid] and is_sealed(stored(engine)[kid])
        assert signs_in(http, secret, "demo").status_code == 201


def test_a_previous_kek_rotates_and_a_wrong_kek_refuses_to_start(tmp_path: Path, engine: Engine) -> None:
    record, secret = TenantKeyStore(engine, KeyWrap(KEK)).create("demo", "ops")
    before = stored(engine)[record.kid]
    with pytest.raises(CopilotError) as refused:
        assemble(settings_of(tmp_path, key_encryption_key="kek-two-" + "2" * 40), runner=ScriptedRunner(),
                 decider=OnceDecider(), engine=engine)  # fmt: skip
    assert refused.value.code is ErrorCode.CONFIGURATION
    assert "COPILOT_PREVIOUS_KEY_ENCRYPTION_KEYS" in refused.value.message
    assert stored(engine)[record.kid] == before  # nothing written
    new = settings_of(tmp_path, key_encryption_key="kek-two-" + "2" * 40, previous_key_encryption_keys=[KEK])
    for http in serve(new, engine):
        assert stored(engine)[record.kid] != before  # re-encrypted under the new KEK
        assert signs_in(http, secret, "demo").status_code == 201
    assert KeyWrap("kek-two-" + "2" * 40).open(stored(engine)[record.kid]) == secret  # the old KEK can go


def test_a_row_no_kek_here_opens_is_a_clear_401(tmp_path: Path, engine: Engine) -> None:
    for http in serve(settings_of(tmp_path, key_encryption_key=KEK), engine):
        _, secret = TenantKeyStore(engine, KeyWrap("another-workers-" + "w" * 40)).create("demo", "ops")
        refused = signs_in(http, secret, "demo")
        assert refused.status_code == 401, refused.text
        assert "COPILOT_KEY_ENCRYPTION_KEY" in refused.json()["error"]["message"]


@hsettings(max_examples=40, deadline=None)
@given(secret=st.text(min_size=1, max_size=64), kek=st.text(min_size=1, max_size=64))
def test_sealing_round_trips_and_hides_the_secret(secret: str, kek: str) -> None:
    wrap = KeyWrap(kek)
    sealed = wrap.seal(secret)
    assert wrap.open(sealed) == secret and is_sealed(sealed) and wrap.reseal(sealed) is None
    assert KeyWrap(kek + "x", [kek]).open(sealed) == secret  # a previous KEK still opens
    with pytest.raises(CopilotError):
        KeyWrap(kek + "x").open(sealed)


def test_a_managed_secret_fits_the_column() -> None:
    assert len(KeyWrap(KEK).seal(secrets.token_urlsafe(48))) <= tenant_keys.c.secret.type.length  # type: ignore[attr-defined]


def test_production_refuses_a_short_kek(tmp_path: Path) -> None:
    with pytest.raises(CopilotError) as refused:
        resolve_secret(settings_of(tmp_path, env="production", key_encryption_key="short"))
    assert "COPILOT_KEY_ENCRYPTION_KEY" in refused.value.message
