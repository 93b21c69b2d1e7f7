"""τ² NL assertions: graded by a judge model (here the scripted OpenAI-compatible server, through the real
langchain-openai client) when --judge-model is given, reported apart from the store-hash pass^k, and said to
be not graded when no judge ran or the judge answered out of format."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from copilot.cli.main import app
from copilot.llm.testing import Reply, Script, WireServer, openai_app
from copilot.simulation.judge import parse

ASSERTIONS = ["The assistant says how long refunds take.", "The assistant offers a discount code."]


def _scenario(tmp_path: Path) -> str:
    task = {
        "id": "refund-time",
        "user_scenario": {"customer": "demo_customer_0001", "script": [{"say": "How long do refunds take?"}]},
        "evaluation_criteria": {"actions": [], "nl_assertions": ASSERTIONS},
    }
    path = tmp_path / "scenarios.json"
    path.write_text(json.dumps({"store": "demo", "tasks": [task]}))
    return str(path)


def _run(tmp_path: Path, *extra: str) -> dict[str, object]:
    out = tmp_path / "report.json"
    result = CliRunner().invoke(
        app, ["eval", "conversations", _scenario(tmp_path), "--model", "offline", "--json", str(out), *extra]
    )
    assert result.exit_code == 0, result.output
    report: dict[str, object] = json.loads(out.read_text())
    return report


def _verdicts(*met: bool) -> str:
    results = [{"expectation": n, "met": m, "reasoning": "from the transcript"} for n, m in enumerate(met, 1)]
    return "```json\n" + json.dumps({"results": results}) + "\n```"


def test_a_judge_grades_the_assertions_apart_from_the_store_hash(tmp_path: Path) -> None:
    judge = Script([Reply(text=_verdicts(True, False))])
    with WireServer(openai_app(judge)) as server:
        report = _run(tmp_path, "--judge-model", "openai:judge", "--judge-base-url", f"{server.url}/v1")
    judge.assert_consumed()
    summary = report["summary"]
    assert isinstance(summary, dict)
    assert summary["pass^1"] == 1.0  # the store-hash grade: nothing was to change
    assert (summary["nl_trials"], summary["nl_graded_trials"], summary["nl_pass^1"]) == (1, 1, 0.0)
    assert "graded by the judge apart from the store hash: 0 of 1" in str(report["nl_assertions"])
    row = report["tasks"][0]  # type: ignore[index]
    assert row["nl_unmet"] == [f"unmet: {ASSERTIONS[1]}"]
    asked = json.dumps(server.log.requests[0].messages)
    assert "How long do refunds take?" in asked and "business days" in asked  # the conversation, both sides
    assert all(a in asked for a in ASSERTIONS)


def test_the_judges_tokens_and_cost_are_counted_apart_from_the_copilots(tmp_path: Path) -> None:
    reply = _verdicts(True, True)
    judge = Script([Reply(text=reply, prompt_tokens=1200)])
    with WireServer(openai_app(judge)) as server:
        report = _run(
            tmp_path, "--judge-model", "openai:judge", "--judge-base-url", f"{server.url}/v1",
            "--judge-price-in", "2", "--judge-price-out", "10", "--price-in", "1000",
        )  # fmt: skip
    judge.assert_consumed()
    summary = report["summary"]
    assert isinstance(summary, dict)
    completion = max(1, len(reply) // 4)  # what the scripted server reports
    assert summary["judge_tokens_per_task"] == 1200 + completion
    assert summary["judge_cost_per_task"] == pytest.approx((1200 * 2 + completion * 10) / 1e6)
    assert summary["tokens_per_task"] == 0 and summary["cost_per_task"] == 0  # the offline copilot's: none
    assert report["tasks"][0]["judge_tokens"] == 1200 + completion  # type: ignore[index]
    without = _run(tmp_path)["summary"]
    assert without["judge_tokens_per_task"] == 0 == without["judge_cost_per_task"]  # type: ignore[index]


def test_without_a_judge_the_report_says_they_were_not_graded(tmp_path: Path) -> None:
    report = _run(tmp_path)
    summary = report["summary"]
    assert isinstance(summary, dict)
    assert summary["pass^1"] == 1.0 and summary["nl_graded_trials"] == 0 and "nl_pass^1" not in summary
    assert "not graded (no judge model (pass --judge-model))" in str(report["nl_assertions"])


def test_a_judge_reply_out_of_format_leaves_the_trial_not_graded(tmp_path: Path) -> None:
    judge = Script([Reply(text="Both look fine to me.")])
    with WireServer(openai_app(judge)) as server:
        report = _run(tmp_path, "--judge-model", "openai:judge", "--judge-base-url", f"{server.url}/v1")
    assert "not the expected JSON" in str(report["nl_assertions"])
    assert report["summary"]["nl_graded_trials"] == 0  # type: ignore[index]


@given(st.lists(st.booleans(), min_size=1, max_size=8), st.permutations(range(8)))
def test_verdicts_map_to_their_assertions_in_any_order(met: list[bool], order: list[int]) -> None:
    assertions = [f"expectation {n}" for n in range(len(met))]
    results = [{"expectation": n + 1, "met": met[n]} for n in order if n < len(met)]
    grade = parse(json.dumps({"results": results}), assertions)
    assert grade.status == "graded" and [v.met for v in grade.verdicts] == met
    assert [v.assertion for v in grade.verdicts] == assertions and grade.met == all(met)
    partial = parse(json.dumps({"results": results[1:]}), assertions)
    assert partial.status == "not_graded" and "no verdict" in partial.reason
