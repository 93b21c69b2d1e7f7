"""CI gate: the demo store's scenarios, played by the scripted customer against the offline model through
the real graph and gateway, meet their thresholds (a regression fails the build) and use every tool."""

from __future__ import annotations

import json
from pathlib import Path

from typer.testing import CliRunner

from copilot.cli.eval_conversations import eval_settings
from copilot.cli.main import app
from copilot.settings import PROJECT_ROOT
from copilot.simulation.report import build_report, violations
from copilot.simulation.run import Simulation
from copilot.simulation.tasks import load_tasks
from copilot.simulation.users import ScriptedUser
from copilot.wiring import open_system

SCENARIOS = PROJECT_ROOT / "tools" / "retail" / "scenarios"


async def test_demo_scenarios_pass_their_thresholds_and_cover_every_tool(tmp_path: Path) -> None:
    tasks = load_tasks(SCENARIOS)
    async with open_system(eval_settings(tmp_path, tasks, model="offline", base_url=None)) as system:
        simulation = Simulation(system, tasks, lambda task: ScriptedUser(list(task.user_scenario.script)))
        results = await simulation.run()
        tools = {t.spec.name for t in system.pack.tools}
    report = build_report(results)
    failed = {r.task_id: r.grade.reasons for r in results if not r.grade.passed}
    assert not failed
    assert violations(report, tasks.thresholds) == []
    requested = {d["tool"] for r in results for kind, d in r.transcript.events if kind == "tool.requested"}
    assert requested == tools
    handed_off = {r.task_id for r in results if r.transcript.handed_off}
    assert handed_off == {t.id for t in tasks.tasks if t.evaluation_criteria.handoff}
    assert report.summary["tool_denials"] > 0  # the refusal scenario is graded, not skipped


def _task(task_id: str, confirm: bool, outputs: list[str]) -> dict[str, object]:
    cancel = {"order_id": "#W0000001", "reason": "ordered by mistake"}
    script = [{"say": "please cancel order #W0000001, I ordered it by mistake"}, {"confirm": confirm}]
    return {
        "id": task_id,
        "user_scenario": {"customer": "demo_customer_0001", "script": script},
        "evaluation_criteria": {
            "actions": [{"name": "cancel_pending_order", "arguments": cancel}],
            "communicate_info": outputs,
        },
    }


def _scenarios(tmp_path: Path, *tasks: dict[str, object]) -> str:
    path = tmp_path / "scenarios.json"
    path.write_text(json.dumps({"store": "demo", "minimum": {"pass^1": 1.0}, "tasks": list(tasks)}))
    return str(path)


def test_the_cli_grades_each_task_and_fails_below_the_threshold(tmp_path: Path) -> None:
    path = _scenarios(
        tmp_path,
        _task("met", True, ["cancelled"]),
        _task("declined", False, []),
        _task("unsaid", True, ["$9"]),
    )
    result = CliRunner().invoke(app, ["eval", "conversations", path, "--json", str(tmp_path / "report.json")])
    assert result.exit_code == 1
    report = json.loads((tmp_path / "report.json").read_text())
    rows = {row["task_id"]: row for row in report["tasks"]}
    assert report["summary"]["pass^1"] == 1 / 3
    assert (rows["met"]["passed"], rows["declined"]["passed"], rows["unsaid"]["passed"]) == (1, 0, 0)
    assert rows["declined"]["failures"] == ["the store differs from the gold actions' store"]
    assert rows["unsaid"]["failures"] == ["never said '$9'"] and rows["unsaid"]["store_matches"] == 1
    assert "thresholds missed: pass^1 = 0.333, minimum 1" in result.output


def test_the_cli_refuses_bad_options_before_running(tmp_path: Path) -> None:
    runner = CliRunner()
    path = _scenarios(tmp_path, _task("met", True, []))
    bad_metric = runner.invoke(app, ["eval", "conversations", path, "--min", "pass^2=1"])
    assert (
        bad_metric.exit_code == 2 and "Unknown threshold metric 'pass^2' with 1 trial(s)" in bad_metric.output
    )
    malformed = runner.invoke(app, ["eval", "conversations", path, "--max", "turns"])
    assert malformed.exit_code == 2 and "use METRIC=NUMBER" in malformed.output
    no_script = tmp_path / "noscript.yaml"
    no_script.write_text("tasks: [{id: x, user_scenario: {customer: demo_customer_0001}}]")
    result = runner.invoke(app, ["eval", "conversations", str(no_script)])
    assert result.exit_code == 2 and "x have no script" in result.output
    unknown = runner.invoke(app, ["eval", "conversations", path, "--task", "nope"])
    assert unknown.exit_code == 2 and "No task with id ['nope']" in unknown.output
    offline_user = runner.invoke(app, ["eval", "conversations", path, "--user-model", "offline"])
    assert offline_user.exit_code == 2 and "cannot play a customer" in offline_user.output
