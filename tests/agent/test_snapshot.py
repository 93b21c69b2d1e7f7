"""The graph's shape is reviewed through its mermaid drawing; drift fails until the snapshot is updated."""

from __future__ import annotations

import os
from pathlib import Path

from tests.agent.conftest import MakeHarness

SNAPSHOT = Path(__file__).parent / "snapshots" / "support_graph.mmd"


def test_mermaid_matches_snapshot(harness: MakeHarness) -> None:
    drawn = harness().graph.get_graph().draw_mermaid()
    if os.environ.get("UPDATE_SNAPSHOTS") == "1":
        SNAPSHOT.write_text(drawn)
    assert drawn == SNAPSHOT.read_text(), (
        "The support graph changed shape. Review the drawing, then update the snapshot with "
        "`UPDATE_SNAPSHOTS=1 .venv/bin/pytest tests/agent/test_snapshot.py` and copy it into ARCHITECTURE.md."
    )


def test_snapshot_draws_every_node() -> None:
    text = SNAPSHOT.read_text()
    for node in ("guard", "retrieve", "plan", "act", "confirm", "execute", "validate", "handoff"):
        assert f"\t{node}({node})" in text
