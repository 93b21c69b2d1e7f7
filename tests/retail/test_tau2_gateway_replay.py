"""Replay every gold action of τ²'s tasks_train.json through the GATEWAY as an agent (writes: preview →
the agent's confirmation → execute once), each task on a fresh copy of db.json, and check that the final DB
equals the direct handler replay of the same task."""

from __future__ import annotations

import json
import shutil
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, String, select, type_coerce

from copilot.gateway.casbin_authorizer import CasbinAuthorizer
from copilot.gateway.gateway import Gateway
from copilot.packs import Pack
from copilot.settings import PROJECT_ROOT
from copilot.store.database import make_engine
from copilot.store.documents import DocumentStore
from copilot.store.schema import documents

from .support import AGENT, TENANT, rolled_back
from .test_tau2_replay import EXPECTED_REJECTIONS, replay

pytestmark = pytest.mark.shared

Snapshot = dict[tuple[str, str], str]


def snapshot(conn: Connection) -> Snapshot:
    """Every document as its stored JSON text (both replays serialise the same way, so text equality holds)."""
    raw = type_coerce(documents.c.data, String)
    rows = conn.execute(select(documents.c.kind, documents.c.id, raw))
    return {(kind, id_): data for kind, id_, data in rows}


def gateway_replay(gateway: Gateway, task: dict[str, Any]) -> list[str]:
    """Run the task's gold actions through the gateway; returns the ids of actions that did not execute."""
    failed = []
    for action in task["evaluation_criteria"]["actions"]:
        result = gateway.call(AGENT, action["name"], action["arguments"])
        if result.outcome == "preview" and result.preview is not None:
            gateway.decide(AGENT, result.preview.preview_id, approve=True)
            result = gateway.execute(AGENT, result.preview.preview_id)
        if result.outcome != "executed":
            failed.append(action["action_id"])
    return failed


def test_gold_actions_replay_through_the_gateway(
    pack: Pack, tau2_template: Path, tmp_path: Path, shared_data: Path
) -> None:
    tasks = json.loads((shared_data / "tau2-retail" / "tasks_train.json").read_text())
    authorizer = CasbinAuthorizer.from_dir(PROJECT_ROOT / "policies")
    reference = make_engine(f"sqlite:///{tau2_template}")
    failed: list[str] = []
    for task in tasks:
        path = tmp_path / f"task-{task['id']}.db"
        shutil.copyfile(tau2_template, path)
        engine = make_engine(f"sqlite:///{path}")
        failed += gateway_replay(
            Gateway(engine, pack, authorizer, confirmation_ttl=timedelta(minutes=5)), task
        )
        with engine.connect() as conn:
            via_gateway = snapshot(conn)
        engine.dispose()
        path.unlink()
        with rolled_back(reference) as store:
            replay(pack, store, task)
            direct = snapshot(store.conn)
        assert via_gateway == direct, f"task {task['id']}: the gateway replay diverges from the handlers"
    reference.dispose()
    assert sorted(failed) == sorted(EXPECTED_REJECTIONS)


def test_agent_writes_need_the_agents_confirmation(pack: Pack, tau2_template: Path, tmp_path: Path) -> None:
    path = tmp_path / "one.db"
    shutil.copyfile(tau2_template, path)
    engine = make_engine(f"sqlite:///{path}")
    gateway = Gateway(engine, pack, CasbinAuthorizer.from_dir(PROJECT_ROOT / "policies"))
    args = {"order_id": "#W9373487", "reason": "no longer needed"}
    preview = gateway.call(AGENT, "cancel_pending_order", args)
    assert preview.outcome == "preview" and preview.preview is not None
    unconfirmed = gateway.execute(AGENT, preview.preview.preview_id)
    assert (unconfirmed.outcome, unconfirmed.code) == ("denied", "confirmation_required")
    with engine.connect() as conn:
        order = DocumentStore(conn, TENANT).get("order", "#W9373487")
    assert order is not None and order["status"] == "pending"
    engine.dispose()
