"""Where `langgraph dev` comes from in tests: this environment if it has langgraph-cli, else an overlay venv
(.langgraph-venv, made once) whose own site-packages hold langgraph-cli[inmem] and the versions it pins
(jsonschema-rs<0.45, which the dev extra's schemathesis cannot share) in front of this environment's
packages (a .pth line), so the server imports the copilot exactly as installed here."""

from __future__ import annotations

import shutil
import site
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

from copilot.settings import PROJECT_ROOT

OVERLAY = PROJECT_ROOT / ".langgraph-venv"
INSTALL_SECONDS = 600


def langgraph_command() -> list[str]:
    here = Path(sys.executable).with_name("langgraph")
    if here.exists():
        return [str(here)]
    binary = OVERLAY / "bin" / "langgraph"
    if not binary.exists():
        _make_overlay()
    return [str(binary)]


def _make_overlay() -> None:
    shutil.rmtree(OVERLAY, ignore_errors=True)
    venv.EnvBuilder(with_pip=True).create(OVERLAY)
    python = OVERLAY / "bin" / "python"
    own = subprocess.run(
        [str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
        check=True, capture_output=True, text=True,
    ).stdout.strip()  # fmt: skip
    ours = [sysconfig.get_paths()["purelib"], *site.getsitepackages()]
    (Path(own) / "copilot-env.pth").write_text("\n".join(dict.fromkeys(ours)) + "\n")
    subprocess.run(
        [str(python), "-m", "pip", "install", "-q", "langgraph-cli[inmem]>=0.4"],
        check=True,
        timeout=INSTALL_SECONDS,
    )
