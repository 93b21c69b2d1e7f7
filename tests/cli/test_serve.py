"""`copilot serve`: refuses to start in production without a secret; seeds on first start for the hint."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from copilot.api.app import create_app
from copilot.cli.serve import demo_user
from copilot.errors import CopilotError, ErrorCode
from copilot.settings import Settings


def test_serve_in_production_without_secret_refuses(tmp_path: Path) -> None:
    """A process of its own: serve configures the process's logging (a JSON line on a non-terminal stderr)."""
    env = {**os.environ, "COPILOT_DATA_DIR": str(tmp_path), "COPILOT_ENV": "production", "COPILOT_SECRET": ""}
    done = subprocess.run(
        [str(Path(sys.executable).parent / "copilot"), "serve", "--port", "1"],
        env=env, capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 1
    [line] = [json.loads(line) for line in done.stderr.splitlines()]
    assert line["event"] == "serve.refused" and "COPILOT_SECRET" in line["message"]
    assert not (tmp_path / "copilot.db").exists()


def test_create_app_in_production_without_secret_raises(tmp_path: Path) -> None:
    with pytest.raises(CopilotError) as info:
        create_app(Settings(env="production", data_dir=tmp_path, secret=None))
    assert info.value.code is ErrorCode.CONFIGURATION


def test_first_start_seeds_demo_data_once(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret="k" * 64)
    user = demo_user(settings)
    assert user is not None
    assert demo_user(settings) == user  # second start: store kept, not reseeded
