"""langgraph.json points at graphs/support.py:graph, a lazy factory returning the compiled support graph."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path
from types import ModuleType

import pytest

from copilot.settings import PROJECT_ROOT


def _load_entrypoint() -> tuple[ModuleType, str]:
    config = json.loads((PROJECT_ROOT / "langgraph.json").read_text())
    assert config["dependencies"] == ["."]
    path, attr = config["graphs"]["support"].split(":")
    spec = importlib.util.spec_from_file_location("copilot_graphs_support", PROJECT_ROOT / path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module, attr


def test_langgraph_json_points_at_a_graph_factory() -> None:
    module, attr = _load_entrypoint()
    factory = getattr(module, attr)
    assert callable(factory)
    assert module._support_graph.cache_info().currsize == 0  # nothing built at import time


def test_factory_builds_the_support_graph(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path))
    module, attr = _load_entrypoint()
    graph = getattr(module, attr)({"configurable": {}})
    assert set(graph.get_graph().nodes) >= {
        "guard",
        "retrieve",
        "plan",
        "act",
        "confirm",
        "validate",
        "handoff",
    }
    assert graph is getattr(module, attr)(None)
    assert (tmp_path / "copilot.db").exists()
