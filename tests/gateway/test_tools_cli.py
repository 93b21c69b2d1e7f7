"""`copilot tools call`: one gateway decision as JSON, on demo data in a temporary database."""

from __future__ import annotations

import json
from typing import Any

from typer.testing import CliRunner

from copilot.cli.main import app


def _call(*args: str) -> tuple[int, dict[str, Any]]:
    result = CliRunner().invoke(app, ["tools", "call", *args])
    body = json.loads(result.stdout) if result.exit_code == 0 else {}
    return result.exit_code, body


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
