"""Where `langgraph dev` comes from in tests: this environment if it has langgraph-cli, else an overlay venv
(.langgraph-venv) with the copilot installed into it on its own (`pip install -e '.[langgraph]'`). The overlay
does not see this environment's packages: langgraph-api pins jsonschema-rs<0.45 and the dev extra's
schemathesis needs >=0.60, so each environment resolves its own. Rebuilt when pyproject.toml changes."""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import venv
from pathlib import Path

from copilot.settings import PROJECT_ROOT

OVERLAY = PROJECT_ROOT / ".langgraph-venv"
STAMP = OVERLAY / ".copilot-pyproject"
INSTALL_SECONDS = 900


def langgraph_command() -> list[str]:
    here = Path(sys.executable).with_name("langgraph")
    if here.exists():
        return [str(here)]
    binary = OVERLAY / "bin" / "langgraph"
    if not binary.exists() or not STAMP.is_file() or STAMP.read_text() != _pyproject_digest():
        _make_overlay()
    return [str(binary)]


def _pyproject_digest() -> str:
    return hashlib.sha256((PROJECT_ROOT / "pyproject.toml").read_bytes()).hexdigest()


def _make_overlay() -> None:
    shutil.rmtree(OVERLAY, ignore_errors=True)
    venv.EnvBuilder(with_pip=True).create(OVERLAY)  # system_site_packages=False: nothing of ours leaks in
    subprocess.run(
        [str(OVERLAY / "bin" / "python"), "-m", "pip", "install", "-q", "-e", f"{PROJECT_ROOT}[langgraph]"],
        check=True,
        timeout=INSTALL_SECONDS,
    )
    STAMP.write_text(_pyproject_digest())
