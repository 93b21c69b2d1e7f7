"""Task files: τ² task lists and scenario files, with clear errors for bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from copilot.errors import CopilotError
from copilot.settings import PROJECT_ROOT
from copilot.simulation.tasks import load_tasks

SCENARIOS = PROJECT_ROOT / "tools" / "retail" / "scenarios"


@pytest.mark.shared
def test_tau2_tasks_load_with_the_db_beside_them(shared_data: Path) -> None:
    tasks = load_tasks(shared_data / "tau2-retail" / "tasks_train.json")
    assert len(tasks.tasks) == 74 and tasks.store == shared_data / "tau2-retail" / "db.json"
    first = tasks.tasks[0]
    assert first.user_scenario.brief.known_info == "You are Yusuf Rossi in zip code 19122."
    assert [a.name for a in first.evaluation_criteria.gold][-1] == "exchange_delivered_order_items"
    assert sum(bool(t.evaluation_criteria.outputs) for t in tasks.tasks) == 25


def test_the_scenario_directory_merges_files_and_thresholds() -> None:
    tasks = load_tasks(SCENARIOS)
    assert tasks.store is None  # the pack's demo store
    assert tasks.thresholds.minimum == {"pass^1": 1.0}
    assert all(t.user_scenario.script for t in tasks.tasks)
    assert len({t.id for t in tasks.tasks}) == len(tasks.tasks)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tasks: [{id: a, user_scenario: {script: [{say: hi, confirm: true}]}}]", "either {say: TEXT}"),
        ("tasks: [{user_scenario: {}}]", "tasks.0.id: Field required"),
        ("[1, 2]", "not a τ² task list"),
        ("tasks: [", "Cannot read tasks"),
    ],
)
def test_bad_task_files_say_what_is_wrong(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text(text)
    with pytest.raises(CopilotError, match=message.replace("{", "\\{").replace("^", "\\^")) as caught:
        load_tasks(path)
    assert caught.value.code.value == "bad_request"


def test_a_directory_without_scenarios_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(CopilotError, match="holds no scenario files"):
        load_tasks(tmp_path)
