"""Audit completeness: real turns over HTTP (real uvicorn, offline model, demo store) — a help answer, an order
lookup, a cancel previewed, confirmed and executed, a staff tool call, a prompt publish between turns — leave
100 % of turn records and gateway calls naming trace id, policy, prompt and model; `copilot audit completeness`
prints it and passes. A row missing any one field is counted as incomplete and fails the gate."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update
from typer.testing import CliRunner

from copilot.api.app import create_app
from copilot.cli.main import app as cli
from copilot.gateway.audit import TURN_TOOL, AuditEntry, AuditLog
from copilot.principal import Principal
from copilot.prompts.stamp import TurnStamp, stamping
from copilot.prompts.templates import PromptSet
from copilot.settings import Settings
from copilot.store.database import make_engine
from copilot.store.schema import audit_log
from copilot.telemetry.completeness import FIELDS, measure
from copilot.telemetry.tracing import identified
from tests.api.support import SECRET, serve_in_thread, token
from tests.api.test_e2e_offline import Session

USER, ORDER = "demo_customer_0001", "#W0000001"
ADMIN = token("admin", "root")


def _cli(data_dir: Path, *args: str) -> tuple[int, str]:
    result = CliRunner().invoke(
        cli, ["audit", "completeness", *args], env={"COPILOT_DATA_DIR": str(data_dir)}
    )
    return result.exit_code, result.output


async def test_real_turns_over_http_are_fully_audited(tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path, secret=SECRET, model="offline")
    with serve_in_thread(create_app(settings)) as base:
        async with httpx.AsyncClient(base_url=base, timeout=30) as client:
            session = Session(client, USER)
            await session.start()
            await session.turn("messages", {"text": "How long does a refund take?"})
            looked = await session.turn("messages", {"text": f"Where is my order {ORDER}?"})
            assert any(f.event == "tool.executed" for f in looked)
            current = (await client.get("/v1/prompts", headers=ADMIN)).json()
            declined = "The customer said no, so nothing changed. Ask what they want instead."
            body = {"templates": {**current["templates"], "declined": declined}, "message": "plainer"}
            put = await client.put("/v1/prompts", json=body, headers={**ADMIN, "If-Match": current["etag"]})
            assert put.status_code == 200, put.text
            cancel = await session.turn(
                "messages", {"text": f"Please cancel order {ORDER}, I no longer need it."}
            )
            preview = next(f for f in cancel if f.event == "tool.preview")
            done = await session.turn(
                "confirmations", {"preview_id": preview.data["preview_id"], "approve": True}
            )
            assert [f.data["tool"] for f in done if f.event == "tool.executed"] == ["cancel_pending_order"]
            staff = {"tool": "get_order_details", "arguments": {"order_id": ORDER}}
            read = await client.post(f"/v1/conversations/{session.cid}/agent-tools", json=staff,
                                     headers=token("agent", "alice"))  # fmt: skip
            assert read.status_code == 200, read.text

    engine = make_engine(settings.resolved_database_url)
    try:
        result = measure(engine)
        with engine.connect() as conn:
            rows = conn.execute(
                select(audit_log.c.tool, audit_log.c.outcome, audit_log.c.prompt_version, audit_log.c.model)
                .order_by(audit_log.c.seq)
            ).all()  # fmt: skip
    finally:
        engine.dispose()
    turns = [r for r in rows if r.tool == TURN_TOOL]
    assert [t.prompt_version for t in turns] == ["v1", "v1", "v2", "v2"]
    assert {t.model for t in turns} == {"copilot-offline:copilot-offline"}
    assert result.percent == 100.0, result
    assert (result.kinds["turn"].rows, result.kinds["human"].rows) == (4, 2)  # confirm + the agent's read
    assert result.kinds["call"].rows >= 3  # lookup, preview, execute
    code, output = _cli(tmp_path)
    assert code == 0 and "audit completeness: 100.00%" in output, output
    code, _ = _cli(tmp_path, "--tenant", "nobody")
    assert code == 0  # nothing to count is not a failure


@pytest.mark.parametrize("missing", FIELDS)
def test_a_row_missing_a_field_is_incomplete(tmp_path: Path, missing: str) -> None:
    settings = Settings(data_dir=tmp_path, secret=SECRET)
    engine = make_engine(settings.resolved_database_url)
    audit = AuditLog(engine)
    who = Principal("demo", "customer", USER)
    stamp = TurnStamp("t1", PromptSet("v4", {}), "v2", "offline:offline")
    try:
        with identified(), stamping(stamp):
            for tool in ("get_order_details", TURN_TOOL):
                audit.record(AuditEntry(decision_id=tool, principal=who, tool=tool, arguments={}, outcome="execute",
                                        policy_version="v2", latency_ms=1.0))  # fmt: skip
        with (
            identified()
        ):  # an approval's execution outside any turn: a person's decision, no prompt or model
            audit.record(AuditEntry(decision_id="x", principal=who, tool="cancel_pending_order", arguments={},
                                    outcome="execute", policy_version="v2", latency_ms=1.0))  # fmt: skip
        assert measure(engine).percent == 100.0 and measure(engine).kinds["human"].rows == 1
        with engine.begin() as conn:
            blank = "" if missing == "policy_version" else None  # NOT NULL: a gateway row's is never absent
            in_turn = audit_log.c.tool == "get_order_details"
            conn.execute(update(audit_log).where(in_turn).values({missing: blank}))
        result = measure(engine)
    finally:
        engine.dispose()
    assert (result.kinds["call"].rows, result.kinds["call"].complete) == (1, 0)
    assert result.kinds["call"].missing == {f: int(f == missing) for f in FIELDS}
    assert result.percent == pytest.approx(200 / 3)
    code, output = _cli(tmp_path)
    assert code == 1 and "audit completeness: 66.67%" in output, output
