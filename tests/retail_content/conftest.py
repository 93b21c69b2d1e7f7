"""Fixtures for the retail pack's content: its help articles and its intents module, loaded by path."""

from __future__ import annotations

import importlib.util
from pathlib import Path
from types import ModuleType

import pytest

from copilot.packs import Intent

PACK_DIR = Path(__file__).resolve().parents[2] / "tools" / "retail"
ARTICLES_DIR = PACK_DIR / "articles"


@pytest.fixture(scope="session")
def intents_module() -> ModuleType:
    """tools/retail/intents.py imported standalone (it uses absolute `copilot` imports only)."""
    spec = importlib.util.spec_from_file_location("retail_intents_under_test", PACK_DIR / "intents.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def intents(intents_module: ModuleType) -> tuple[Intent, ...]:
    loaded: tuple[Intent, ...] = intents_module.load_intents()
    return loaded
