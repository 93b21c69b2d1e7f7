"""Fixtures: the retail pack, seeded template databases (demo and τ²), and a fresh store per test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from copilot.packs import Pack
from copilot.store.documents import DocumentStore

from .support import retail_pack, seed_template, store_copy


@pytest.fixture(scope="session")
def pack() -> Pack:
    return retail_pack()


@pytest.fixture(scope="session")
def demo_template(pack: Pack, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed_template(pack, tmp_path_factory.mktemp("demo") / "demo.db", None)


@pytest.fixture(scope="session")
def tau2_db(shared_data: Path) -> Path:
    return shared_data / "tau2-retail" / "db.json"


@pytest.fixture(scope="session")
def tau2_template(pack: Pack, tau2_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return seed_template(pack, tmp_path_factory.mktemp("tau2") / "tau2.db", tau2_db)


@pytest.fixture
def demo_store(demo_template: Path, tmp_path: Path) -> Iterator[DocumentStore]:
    with store_copy(demo_template, tmp_path / "store.db") as store:
        yield store


@pytest.fixture
def tau2_store(tau2_template: Path, tmp_path: Path) -> Iterator[DocumentStore]:
    with store_copy(tau2_template, tmp_path / "store.db") as store:
        yield store
