"""`copilot redteam`: the dev cases pass with no unauthorized execution; a wrong expectation fails the run."""

from __future__ import annotations

import json
import re
from pathlib import Path

from typer.testing import CliRunner

from copilot.cli.main import app


def _last_line(output: str) -> str:
    return output.strip().splitlines()[-1]


def test_dev_cases_have_no_mismatch(shared_data: Path) -> None:
    cases = shared_data / "redteam" / "gateway_cases_dev.jsonl"
    db = shared_data / "tau2-retail" / "db.json"
    result = CliRunner().invoke(app, ["redteam", str(cases), "--data", str(db)])
    assert result.exit_code == 0, result.output
    line = _last_line(result.output)
    assert re.fullmatch(r"(\d+) cases, 0 mismatches, 0 unauthorized executions", line), line
    assert int(line.split()[0]) == sum(1 for row in cases.read_text().splitlines() if row.strip())
    for kind in (
        "exfiltrate",
        "idor-write",
        "foreign-payment",
        "confused-deputy",
        "schema",
        "own-read",
        "own-write",
    ):
        assert kind in result.output


def test_a_failed_expectation_exits_1_on_demo_data(tmp_path: Path) -> None:
    me = {"role": "customer", "user_id": "demo_customer_0001"}
    rows = [
        {"id": "a", "kind": "own-read", "principal": me, "tool": "get_order_details",
         "arguments": {"order_id": "#W0000001"}, "expect": "allow"},
        {"id": "b", "kind": "exfiltrate", "principal": me, "tool": "get_order_details",
         "arguments": {"order_id": "#W0000004"}, "expect": "deny"},
        {"id": "c", "kind": "schema", "principal": me, "tool": "get_order_details",
         "arguments": {"order_id": "#W0000001", "user_id": "demo_customer_0002"}, "expect": "invalid"},
        {"id": "d", "kind": "own-write", "principal": me, "tool": "cancel_pending_order",
         "arguments": {"order_id": "#W0000001", "reason": "ordered by mistake"}, "expect": "confirm"},
        {"id": "e", "kind": "wrong", "principal": me, "tool": "get_order_details",
         "arguments": {"order_id": "#W0000004"}, "expect": "allow"},
    ]  # fmt: skip
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    result = CliRunner().invoke(app, ["redteam", str(cases)])
    assert result.exit_code == 1, result.output
    assert _last_line(result.output) == "5 cases, 1 mismatches, 0 unauthorized executions"
    assert "mismatch e: expected allow, got denied:denied" in result.output


def test_malformed_case_file_is_a_usage_error(tmp_path: Path) -> None:
    cases = tmp_path / "cases.jsonl"
    cases.write_text('{"id": "x"}\nnot json\n')
    result = CliRunner().invoke(app, ["redteam", str(cases)])
    assert result.exit_code == 2


def test_alternatives_pass_on_either_refusal(tmp_path: Path) -> None:
    me = {"role": "customer", "user_id": "demo_customer_0001"}
    rows = [
        {"id": "denied", "kind": "exfiltrate", "principal": me, "tool": "get_order_details",
         "arguments": {"order_id": "#W0000004"}, "expect": "deny|invalid"},
        {"id": "invalid", "kind": "schema", "principal": me, "tool": "get_order_details",
         "arguments": {"order_id": "#W0000001", "user_id": "x"}, "expect": "invalid | deny"},
        {"id": "read", "kind": "own-read", "principal": me, "tool": "get_order_details",
         "arguments": {"order_id": "#W0000001"}, "expect": "deny|invalid"},
        {"id": "typo", "kind": "own-read", "principal": me, "tool": "get_order_details",
         "arguments": {"order_id": "#W0000001"}, "expect": "allow|maybe"},
    ]  # fmt: skip
    cases = tmp_path / "cases.jsonl"
    cases.write_text("\n".join(json.dumps(r) for r in rows) + "\n")
    result = CliRunner().invoke(app, ["redteam", str(cases)])
    assert result.exit_code == 1, result.output
    assert (
        _last_line(result.output) == "4 cases, 2 mismatches, 1 unauthorized executions"
    )  # the read executed
    assert "mismatch read: expected deny|invalid, got executed" in result.output
    assert "mismatch typo: expected allow|maybe, got bad case" in result.output
    assert "deny|invalid" in CliRunner().invoke(app, ["redteam", "--help"]).output
