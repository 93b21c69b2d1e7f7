"""Run every task K times: reset the store, replay the gold actions for the expected store, reset again,
let the simulated customer talk to the copilot, then grade the conversation."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from copilot.principal import Principal
from copilot.simulation.grading import Grade, missing_outputs, replay_gold, store_hash
from copilot.simulation.identity import identify
from copilot.simulation.judge import Judge, NLGrade, not_graded
from copilot.simulation.tasks import Task, TaskSet
from copilot.simulation.trial import Transcript, run_conversation
from copilot.simulation.users import UserSimulator
from copilot.store.documents import DocumentStore
from copilot.wiring import System

SessionRole = Literal["customer", "agent"]
"""Who talks to the copilot: the task's customer, signed in (the widget), or a support agent (the console),
who must identify the customer first, as τ²'s agent does."""
GOLD_ACTOR = "eval_gold"
AGENT_USER = "eval_agent"


@dataclass(frozen=True)
class TrialResult:
    task_id: str
    trial: int
    grade: Grade
    transcript: Transcript


OnTrial = Callable[[TrialResult], None]
UserFactory = Callable[[Task], UserSimulator]


@dataclass(frozen=True)
class Simulation:
    system: System
    tasks: TaskSet
    make_user: UserFactory
    trials: int = 1
    role: SessionRole = "customer"
    max_turns: int = 30
    judge: Judge | None = None
    """Grades the tasks' NL assertions (without one they are reported as not graded)."""

    @property
    def tenant(self) -> str:
        return self.system.settings.default_tenant

    def reset_store(self) -> None:
        """The tenant's domain documents back to the task set's initial store."""
        with self.system.engine.begin() as conn:
            self.system.pack.seed(DocumentStore(conn, self.tenant), self.tasks.store)

    @property
    def staff(self) -> Principal:
        return Principal(self.tenant, "supervisor", GOLD_ACTOR)

    def gold(self, task: Task) -> str:
        """The expected store: the initial one with the gold actions replayed."""
        self.reset_store()
        return replay_gold(self.system.gateway, self.staff, task.evaluation_criteria.gold)

    def principal(self, task: Task) -> Principal:
        if (task.user_scenario.role or self.role) == "agent":
            return Principal(self.tenant, "agent", AGENT_USER)
        customer = identify(self.system.gateway, self.staff, task)
        return (
            Principal(self.tenant, "customer", customer)
            if customer
            else Principal(self.tenant, "guest", "sim")
        )

    async def run_task(self, task: Task, on_trial: OnTrial | None = None) -> list[TrialResult]:
        expected = await asyncio.to_thread(self.gold, task)
        principal = await asyncio.to_thread(self.principal, task)
        results = []
        for trial in range(1, self.trials + 1):
            await asyncio.to_thread(self.reset_store)
            transcript = await run_conversation(
                self.system, principal, self.make_user(task), max_turns=self.max_turns
            )
            final = await asyncio.to_thread(store_hash, self.system.engine, self.tenant)
            grade = Grade(
                store_matches=final == expected,
                missing=tuple(missing_outputs(task.evaluation_criteria.outputs, transcript.assistant_texts)),
                handoff_expected=task.evaluation_criteria.handoff,
                handed_off=transcript.handed_off,
                nl=await self.judge_nl(task, transcript),
            )
            result = TrialResult(task.id, trial, grade, transcript)
            results.append(result)
            if on_trial:
                on_trial(result)
        return results

    async def judge_nl(self, task: Task, transcript: Transcript) -> NLGrade | None:
        assertions = task.evaluation_criteria.assertions
        if not assertions:
            return None
        if self.judge is None:
            return not_graded("no judge model (pass --judge-model)")
        return await self.judge.grade(transcript.dialogue, assertions)

    async def run(self, on_trial: OnTrial | None = None) -> list[TrialResult]:
        """Tasks in order, one conversation at a time (they share the tenant's store)."""
        results: list[TrialResult] = []
        for task in self.tasks.tasks:
            results += await self.run_task(task, on_trial)
        return results


def store_label(store: Path | None) -> str:
    return str(store) if store else "the pack's demo store"
