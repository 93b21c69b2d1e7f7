"""The prompt admin API over HTTP on a real runtime (scripted model): list, history, diff, publish, rollback,
validation (422 naming the placeholder to keep), If-Match, admins only — and the graph sends the model the
version published at the start of each turn, which the turn's audit record names."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
from langchain_core.messages import AIMessage, SystemMessage
from sqlalchemy import select

from copilot.gateway.audit import TURN_TOOL
from copilot.store.schema import audit_log
from tests.api.support import token
from tests.telemetry.support import settings_for, stack

ADMIN = token("admin", "root")
MARKER = "Always greet the customer by saying Ahoy."
QUESTION = "What else can I help you with?"  # a question: nothing for grounding to check


async def _put(
    client: httpx.AsyncClient, templates: dict[str, str], etag: str | None, message: str = "m"
) -> Any:
    headers = {**ADMIN, **({"If-Match": etag} if etag else {})}
    return await client.put("/v1/prompts", json={"templates": templates, "message": message}, headers=headers)


async def test_prompt_admin_api(tmp_path: Path) -> None:
    async with stack(settings_for(tmp_path), [], traced=False) as s:
        client = s.client
        assert (await client.get("/v1/prompts", headers=s.headers)).status_code == 403  # a customer
        got = await client.get("/v1/prompts", headers=ADMIN)
        assert got.status_code == 200, got.text
        v1 = got.json()
        assert (v1["version"], v1["kind"], got.headers["ETag"]) == (1, "seed", v1["etag"])
        assert {f["name"]: f["required"] for f in v1["fields"]}["repair"] == ["problems"]
        templates = v1["templates"]

        broken = await _put(client, {**templates, "system": "You are a helpful assistant."}, v1["etag"])
        assert broken.status_code == 422
        error = broken.json()["error"]
        assert error["code"] == "prompt_invalid"
        assert "must keep the placeholder {context}" in error["message"]
        assert (await _put(client, templates, None)).status_code == 428
        checked = await client.post("/v1/prompts/validate", json={"templates": {**templates, "draft": "{x}"}},
                                    headers=ADMIN)  # fmt: skip
        assert checked.json() == {"valid": False, "problems": [
            "The draft template uses {x}, which is not a placeholder; it may use no placeholders."]}  # fmt: skip

        system = templates["system"].replace("{note}", f"{MARKER}\n{{note}}")
        v2 = (await _put(client, {**templates, "system": system}, v1["etag"], "greet")).json()
        assert (v2["version"], v2["author"], v2["changed"]) == (2, "admin:root@demo", ["system"])
        assert (await _put(client, templates, v1["etag"])).status_code == 412  # edited a stale version

        diff = (await client.get("/v1/prompts/diff?base=1", headers=ADMIN)).json()
        assert diff["version"] == 2 and f"+{MARKER}" in diff["changed"]["system"]
        back = await client.post(
            "/v1/prompts/rollback", json={"version": 1}, headers={**ADMIN, "If-Match": v2["etag"]}
        )
        assert back.status_code == 200 and back.json()["rollback_of"] == 1
        history = (await client.get("/v1/prompts/versions", headers=ADMIN)).json()
        assert history["active"] == 3
        assert [(v["version"], v["kind"], v["message"]) for v in history["versions"]] == [
            (3, "rollback", "rollback to version 1"), (2, "change", "greet"), (1, "seed", "seed from the tool pack")
        ]  # fmt: skip
        one = (await client.get("/v1/prompts/versions/3", headers=ADMIN)).json()
        assert one["templates"] == templates
        assert (await client.get("/v1/prompts/versions/9", headers=ADMIN)).status_code == 404


async def test_each_turn_uses_the_version_published_when_it_starts(tmp_path: Path) -> None:
    script = [AIMessage(content=QUESTION), AIMessage(content=QUESTION)]
    async with stack(settings_for(tmp_path), script, traced=False) as s:
        cid = await s.conversation()
        await s.turn(cid, "hello")
        v1 = (await s.client.get("/v1/prompts", headers=ADMIN)).json()
        system = v1["templates"]["system"].replace("{note}", f"{MARKER}\n{{note}}")
        assert (await _put(s.client, {**v1["templates"], "system": system}, v1["etag"])).status_code == 200
        frames = await s.turn(cid, "hello again")
        assert frames[-1].data["status"] == "completed"
        with s.runtime.engine.connect() as conn:
            turns = conn.execute(
                select(audit_log.c.prompt_version, audit_log.c.model, audit_log.c.policy_version,
                       audit_log.c.trace_id, audit_log.c.outcome)
                .where(audit_log.c.tool == TURN_TOOL).order_by(audit_log.c.seq)
            ).all()  # fmt: skip

    first, second = (prompt[0] for prompt in s.model.prompts)
    assert isinstance(first, SystemMessage) and isinstance(second, SystemMessage)
    assert MARKER not in first.text and MARKER in second.text
    assert [(t.prompt_version, t.model, t.policy_version, t.outcome) for t in turns] == [
        ("v1", "scripted:scripted", "v1", "completed"), ("v2", "scripted:scripted", "v1", "completed")
    ]  # fmt: skip
    assert all(t.trace_id and len(t.trace_id) == 32 for t in turns) and turns[0].trace_id != turns[1].trace_id
