"""The LLM-user path end to end on a τ² task: the scripted OpenAI-compatible server plays both the customer
(model "user") and the copilot (model "copilot"), driven by the real langchain-openai client through
`copilot eval conversations`; two trials (confirmed, declined) give pass^1 = 0.5 and pass^2 = 0."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from copilot.cli.eval_conversations import eval_settings
from copilot.llm.testing import Reply, Script, ToolCall, WireServer, by_model, openai_app
from copilot.simulation.run import Simulation
from copilot.simulation.tasks import load_tasks
from copilot.wiring import open_system

pytestmark = pytest.mark.shared
ORDER = {"order_id": "#W2417020"}
CANCEL = {"order_id": "#W2417020", "reason": "no longer needed"}


def _trial(decision: str, answer: str) -> tuple[list[Reply], list[Reply]]:
    user = [
        Reply("Hi, I'd like to cancel order #W2417020, I no longer need it."),
        Reply(decision),
        Reply("###STOP###"),
    ]
    copilot = [
        Reply(tool_calls=[ToolCall("get_order_details", ORDER, id="call_read")]),
        Reply(tool_calls=[ToolCall("cancel_pending_order", CANCEL, id="call_cancel")]),
        Reply(answer),
    ]
    return user, copilot


@pytest.fixture
def scripts() -> Iterator[tuple[Script, Script]]:
    confirmed, declined = (
        _trial("CONFIRM", "Order #W2417020 is cancelled."),
        _trial("DECLINE", "Nothing changed."),
    )
    user, copilot = Script(confirmed[0] + declined[0]), Script(confirmed[1] + declined[1])
    yield user, copilot
    user.assert_consumed()
    copilot.assert_consumed()


def test_llm_user_and_llm_copilot_over_the_wire(
    scripts: tuple[Script, Script], shared_data: Path, tmp_path: Path
) -> None:
    """The CLI runs as its own process (as a user runs it), talking to the server in this one."""
    user, copilot = scripts
    tasks = str(shared_data / "tau2-retail" / "tasks_train.json")
    copilot_bin = str(Path(sys.executable).with_name("copilot"))
    env = {**os.environ, "OPENAI_API_KEY": "sk-test"}
    with WireServer(openai_app(by_model({"user": user, "copilot": copilot}), api_key="sk-test")) as server:
        done = subprocess.run([
            copilot_bin, "eval", "conversations", tasks, "--task", "69", "--trials", "2",
            "--user-model", "openai:user", "--user-base-url", f"{server.url}/v1",
            "--model", "openai:copilot", "--model-base-url", f"{server.url}/v1",
            "--json", str(tmp_path / "report.json"),
        ], env=env, capture_output=True, text=True, timeout=120, check=False)  # fmt: skip
        server.log.assert_clean()  # every tool call was answered before the conversation went on
    assert done.returncode == 0, done.stdout + done.stderr
    summary = json.loads((tmp_path / "report.json").read_text())["summary"]
    assert (summary["pass^1"], summary["pass^2"]) == (0.5, 0.0)
    assert summary["turns"] == 1 and summary["handoff_rate"] == 0
    assert summary["tokens_per_task"] > 0 and summary["user_tokens_per_task"] > 0  # usage the server reported
    asked = [r for r in server.log.requests if r.model == "user"]
    assert "You want to return an item you just received: a laptop." in json.dumps(asked[0].messages)
    assert "[Confirmation card]" in json.dumps(asked[1].messages)
    served = [r for r in server.log.requests if r.model == "copilot"]
    assert "cancel_pending_order" in served[0].tool_names


async def test_every_tau2_task_names_its_customer(shared_data: Path, tmp_path: Path) -> None:
    tasks = load_tasks(shared_data / "tau2-retail" / "tasks_train.json")
    async with open_system(eval_settings(tmp_path, tasks, model="offline", base_url=None)) as system:
        simulation = Simulation(system, tasks, lambda task: NotImplemented)
        principals = {task.id: simulation.principal(task) for task in tasks.tasks}
    assert {p.role for p in principals.values()} == {"customer"}
    assert principals["0"].user_id == "yusuf_rossi_9620"  # found by name and zip (gold lookup)
    assert principals["24"].user_id == "sofia_hernandez_5364"  # known info only: name + zip, Seattle
    assert principals["57"].user_id == "ivan_hernandez_6923"  # known info: the user id itself
