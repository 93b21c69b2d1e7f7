"""Conversation tasks in τ² format (a tasks.json list) or as scenario files (YAML: store, thresholds, tasks).

A task is what a customer wants (`user_scenario.instructions`: reason for the call, known and unknown info)
and how it is graded (`evaluation_criteria`: the gold actions whose replay gives the expected store, and the
facts the assistant must say). Scenario files add, per task, the `script` a scripted customer follows
(`say` a message, `confirm` a preview or not), the `customer` the session is signed in as, and whether the
conversation must end in a handoff. Parsed with pydantic: task files are input from outside the process.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from copilot.errors import CopilotError, ErrorCode

DEMO_STORE = "demo"
"""`store: demo` (or no db.json beside a task list): the pack's generated demo store."""


class _Model(BaseModel):
    model_config = ConfigDict(extra="ignore", frozen=True)


class Instructions(_Model):
    reason_for_call: str = ""
    known_info: str = ""
    unknown_info: str = ""
    task_instructions: str = ""

    @model_validator(mode="before")
    @classmethod
    def _nulls_as_empty(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {k: "" if v is None else v for k, v in data.items()}
        return data


class ScriptStep(_Model):
    """One move of a scripted customer: say a message, or answer the pending preview."""

    say: str | None = None
    confirm: bool | None = None

    @model_validator(mode="after")
    def _one_move(self) -> ScriptStep:
        if (self.say is None) == (self.confirm is None):
            raise ValueError("a script step is either {say: TEXT} or {confirm: true|false}")
        return self


class UserScenario(_Model):
    instructions: Instructions | str = ""
    persona: str | None = None
    customer: str | None = None
    """The user id the session is signed in as (default: the customer the gold actions identify)."""
    role: Literal["customer", "agent"] | None = None
    """Who talks to the copilot (default: the run's --role): the signed-in customer, or a support agent."""
    script: tuple[ScriptStep, ...] = ()

    @property
    def brief(self) -> Instructions:
        if isinstance(self.instructions, str):
            return Instructions(task_instructions=self.instructions)
        return self.instructions


class GoldAction(_Model):
    name: str
    arguments: dict[str, Any] = Field(default_factory=dict)
    action_id: str | None = None


class Criteria(_Model):
    actions: tuple[GoldAction, ...] | None = ()
    communicate_info: tuple[str, ...] | None = ()
    handoff: bool | None = None
    """Scenario files only: the conversation must (true) or must not (false) end with a human."""
    nl_assertions: tuple[str, ...] | None = ()
    """What the assistant should have done, in words (graded by a judge model: copilot/simulation/judge.py)."""

    @property
    def gold(self) -> tuple[GoldAction, ...]:
        return self.actions or ()

    @property
    def outputs(self) -> tuple[str, ...]:
        return self.communicate_info or ()

    @property
    def assertions(self) -> tuple[str, ...]:
        return self.nl_assertions or ()


class Task(_Model):
    id: str
    user_scenario: UserScenario
    evaluation_criteria: Criteria = Criteria()

    @model_validator(mode="before")
    @classmethod
    def _id_as_text(cls, data: Any) -> Any:
        if isinstance(data, dict) and isinstance(data.get("id"), int):
            return {**data, "id": str(data["id"])}
        return data


class _ScenarioFile(_Model):
    store: str = DEMO_STORE
    minimum: dict[str, float] = Field(default_factory=dict)
    maximum: dict[str, float] = Field(default_factory=dict)
    tasks: tuple[Task, ...]


@dataclass(frozen=True)
class Thresholds:
    """Report metrics (e.g. `pass^1`, `handoff_rate`) that must stay at least / at most these values."""

    minimum: dict[str, float] = field(default_factory=dict)
    maximum: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class TaskSet:
    tasks: tuple[Task, ...]
    store: Path | None
    """A τ² db.json, or None for the pack's demo store."""
    thresholds: Thresholds = Thresholds()


def load_tasks(path: Path) -> TaskSet:
    """A τ² tasks JSON list, one scenario file (.yaml/.yml/.json object), or a directory of scenario files."""
    if path.is_dir():
        return _merge([_load_file(p) for p in sorted(path.glob("*.y*ml"))], path)
    return _load_file(path)


def _load_file(path: Path) -> TaskSet:
    try:
        text = path.read_text(encoding="utf-8")
        data: Any = json.loads(text) if path.suffix == ".json" else yaml.safe_load(text)
    except (OSError, ValueError, yaml.YAMLError) as exc:
        raise CopilotError(ErrorCode.BAD_REQUEST, f"Cannot read tasks from {path}: {exc}") from exc
    try:
        if isinstance(data, list):  # τ²: a list of tasks; the store is the db.json beside it, if any
            tasks = tuple(Task.model_validate(item) for item in data)
            beside = path.parent / "db.json"
            return TaskSet(tasks, beside if beside.is_file() else None)
        scenario = _ScenarioFile.model_validate(data)
    except ValidationError as exc:
        raise CopilotError(
            ErrorCode.BAD_REQUEST,
            f"{path} is not a τ² task list or a scenario file: {_first_error(exc)}",
        ) from exc
    store = None if scenario.store == DEMO_STORE else (path.parent / scenario.store).resolve()
    return TaskSet(scenario.tasks, store, Thresholds(dict(scenario.minimum), dict(scenario.maximum)))


def _merge(sets: list[TaskSet], directory: Path) -> TaskSet:
    if not sets:
        raise CopilotError(ErrorCode.BAD_REQUEST, f"{directory} holds no scenario files (*.yaml).")
    stores = {s.store for s in sets}
    if len(stores) > 1:
        raise CopilotError(
            ErrorCode.BAD_REQUEST, f"The scenario files in {directory} use different stores; run them apart."
        )
    minimum = {k: v for s in sets for k, v in s.thresholds.minimum.items()}
    maximum = {k: v for s in sets for k, v in s.thresholds.maximum.items()}
    tasks = tuple(t for s in sets for t in s.tasks)
    if len({t.id for t in tasks}) != len(tasks):
        raise CopilotError(
            ErrorCode.BAD_REQUEST, f"Task ids repeat across the scenario files in {directory}."
        )
    return TaskSet(tasks, stores.pop(), Thresholds(minimum, maximum))


def _first_error(exc: ValidationError) -> str:
    error = exc.errors()[0]
    where = ".".join(str(p) for p in error["loc"])
    return f"{where}: {error['msg']}" if where else str(error["msg"])
