"""`copilot tools call`: one gateway decision as JSON, on the server's store (COPILOT_DATA_DIR) by default."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from typer.testing import CliRunner

from copilot.cli.main import app
from copilot.settings import Settings
from copilot.store.database import make_engine
from copilot.store.documents import DocumentStore


@pytest.fixture(autouse=True)
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("COPILOT_DATABASE_URL", raising=False)
    return tmp_path / "data"


def _run(*args: str) -> tuple[int, dict[str, Any], str]:
    result = CliRunner().invoke(app, ["tools", "call", *args])
    body = json.loads(result.stdout) if result.exit_code == 0 else {}
    return result.exit_code, body, result.stderr


def _call(*args: str) -> tuple[int, dict[str, Any]]:
    code, body, _ = _run(*args)
    return code, body


def test_uses_the_servers_store_and_says_so(data_dir: Path) -> None:
    read = ("get_order_details", "--as", "customer:demo_customer_0001", "--args", '{"order_id": "#W0000001"}')
    code, body, stderr = _run(*read)
    assert code == 0 and body["result"]["status"] == "pending"
    assert str(data_dir.resolve() / "copilot.db") in stderr and "copilot serve" in stderr
    engine = make_engine(Settings().resolved_database_url)  # what the server would change
    with engine.begin() as conn:
        store = DocumentStore(conn, "demo")
        order = store.get("order", "#W0000001")
        assert order is not None
        store.put("order", "#W0000001", {**order, "status": "cancelled"})
    engine.dispose()
    code, body, _ = _run(*read)
    assert body["result"]["status"] == "cancelled"
    code, body, stderr = _run(*read, "--db", f"sqlite:///{data_dir.parent / 'other.db'}")
    assert body["result"]["status"] == "pending" and "NOT the server's" in stderr


def test_customer_reads_own_order_and_is_denied_another() -> None:
    code, own = _call(
        "get_order_details", "--as", "customer:demo_customer_0001", "--args", '{"order_id": "w0000001"}'
    )
    assert code == 0 and own["outcome"] == "executed"
    assert own["arguments"] == {"order_id": "#W0000001"} and own["result"]["user_id"] == "demo_customer_0001"
    code, other = _call(
        "get_order_details", "--as", "customer:demo_customer_0001", "--args", '{"order_id": "#W0000004"}'
    )
    assert (other["outcome"], other["code"], other["result"]) == ("denied", "denied", None)
    assert other["for_model"]["ok"] is False


def test_write_stops_at_a_preview() -> None:
    args = '{"order_id": "#W0000001", "reason": "ordered by mistake"}'
    code, body = _call("cancel_pending_order", "--as", "customer:demo_customer_0001", "--args", args)
    assert code == 0 and body["outcome"] == "preview"
    assert body["preview"]["changes"][0]["changed"]["status"] == ["pending", "cancelled"]
    assert body["for_model"]["status"] == "awaiting_confirmation"


def test_nan_is_invalid_and_bad_principal_is_a_usage_error() -> None:
    code, body = _call("calculate", "--as", "agent:ann", "--args", '{"expression": NaN}')
    assert (code, body["outcome"]) == (0, "invalid")
    result = CliRunner().invoke(app, ["tools", "call", "calculate", "--as", "root", "--args", "{}"])
    assert result.exit_code == 2
