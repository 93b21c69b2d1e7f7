"""Shared fixtures. Tests that need ../shared/data skip outside CI when it is absent, and never skip in CI."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """Path to ../shared/data; skip (outside CI only) when it is not there."""
    if not SHARED_DATA.is_dir():
        if IN_CI:
            pytest.fail(f"CI=true but {SHARED_DATA} is missing; CI must run beside ../shared")
        pytest.skip(f"{SHARED_DATA} not found: evaluation data lives beside the project in CI only")
    return SHARED_DATA
