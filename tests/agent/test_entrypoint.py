"""langgraph.json points at graphs/support.py:graph, an async factory that builds the support graph on first
use (off the event loop), and at graphs/auth.py:auth; importing either does nothing heavy."""

from __future__ import annotations

import importlib.util
import inspect
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType

import pytest

from copilot.settings import PROJECT_ROOT


def _load(spec_text: str, name: str) -> tuple[ModuleType, str]:
    path, attr = spec_text.split(":")
    spec = importlib.util.spec_from_file_location(name, PROJECT_ROOT / path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, attr


def _config() -> dict[str, object]:
    config: dict[str, object] = json.loads((PROJECT_ROOT / "langgraph.json").read_text())
    return config


def test_langgraph_json_points_at_an_async_graph_factory_and_the_auth() -> None:
    config = _config()
    assert config["dependencies"] == ["."]
    module, attr = _load(config["graphs"]["support"], "copilot_graphs_support")  # type: ignore[index]
    assert inspect.iscoroutinefunction(getattr(module, attr))
    auth_module, auth_attr = _load(config["auth"]["path"], "copilot_graphs_auth")  # type: ignore[index]
    assert type(getattr(auth_module, auth_attr)).__name__ == "Auth"


def test_importing_the_entry_points_builds_nothing(tmp_path: Path) -> None:
    code = (
        "import importlib.util, sys\n"
        "for path in ('graphs/support.py', 'graphs/auth.py'):\n"
        "    spec = importlib.util.spec_from_file_location(path.replace('/', '_')[:-3], path)\n"
        "    spec.loader.exec_module(importlib.util.module_from_spec(spec))\n"
        "import copilot.platform.system as system\n"
        "print(system._built is None)\n"
    )
    data_dir = tmp_path / "data"
    env = {"COPILOT_DATA_DIR": str(data_dir), "PATH": "/usr/bin:/bin"}
    done = subprocess.run(
        [sys.executable, "-c", code],
        check=False,
        cwd=PROJECT_ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.stdout.strip() == "True", done.stderr
    assert not data_dir.exists()


async def test_factory_builds_the_support_graph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path))
    module, attr = _load(_config()["graphs"]["support"], "copilot_graphs_support")  # type: ignore[index]
    graph = await getattr(module, attr)({"configurable": {}})
    assert set(graph.get_graph().nodes) >= {
        "guard",
        "retrieve",
        "plan",
        "act",
        "confirm",
        "validate",
        "handoff",
    }
    assert graph is await getattr(module, attr)(None)
    assert (tmp_path / "copilot.db").exists()
