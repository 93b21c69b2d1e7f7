"""Tokens and secrets."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import jwt
import pytest

from copilot.auth import mint_token, resolve_secret, verify_token
from copilot.errors import CopilotError, ErrorCode
from copilot.principal import Principal
from copilot.settings import Settings

SECRET = "s" * 64
ALICE = Principal(tenant="demo", role="customer", user_id="alice")


def test_round_trip() -> None:
    assert verify_token(SECRET, mint_token(SECRET, ALICE)) == ALICE


@pytest.mark.parametrize(
    "token",
    [
        mint_token("another-secret-" * 4, ALICE),
        mint_token(SECRET, ALICE, ttl=timedelta(seconds=-5)),
        jwt.encode(
            {"sub": "x", "role": "root", "tenant": "demo", "exp": datetime.now(UTC) + timedelta(hours=1)},
            SECRET,
        ),
        jwt.encode({"sub": "x", "role": "agent", "exp": datetime.now(UTC) + timedelta(hours=1)}, SECRET),
        jwt.encode({"sub": "x", "role": "agent", "tenant": "demo"}, SECRET),
        jwt.encode(
            {"sub": "x", "role": "agent", "tenant": "demo", "exp": datetime.now(UTC) + timedelta(hours=1)},
            SECRET,
            algorithm="HS512",
        ),
        "not-a-token",
    ],
    ids=["wrong-secret", "expired", "unknown-role", "no-tenant", "no-exp", "other-alg", "garbage"],
)
def test_rejected_tokens(token: str) -> None:
    with pytest.raises(CopilotError) as info:
        verify_token(SECRET, token)
    assert info.value.code is ErrorCode.UNAUTHENTICATED
    assert "copilot token" in info.value.message


def test_production_refuses_without_secret(tmp_path: Path) -> None:
    with pytest.raises(CopilotError) as info:
        resolve_secret(Settings(env="production", data_dir=tmp_path, secret=None))
    assert info.value.code is ErrorCode.CONFIGURATION
    assert "COPILOT_SECRET" in info.value.message
    assert not (tmp_path / "secret").exists()


def test_development_generates_once(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    settings = Settings(env="development", data_dir=tmp_path / "d", secret=None)
    first = resolve_secret(settings)
    assert "generated a token secret" in caplog.text
    assert resolve_secret(settings) == first
    assert len(first) >= 32
    assert (tmp_path / "d" / "secret").stat().st_mode & 0o077 == 0


def test_configured_secret_wins(tmp_path: Path) -> None:
    configured = "c" * 40
    assert resolve_secret(Settings(env="production", data_dir=tmp_path, secret=configured)) == configured


def test_production_refuses_a_short_secret(tmp_path: Path) -> None:
    with pytest.raises(CopilotError) as info:
        resolve_secret(Settings(env="production", data_dir=tmp_path, secret="short"))
    assert "at least 32" in info.value.message
