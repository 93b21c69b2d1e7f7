"""`copilot eval conversations TASKS --user-model M --trials K`: simulated customers play τ² tasks (or
scenario files) against the real graph and gateway; prints pass^1 … pass^k and the run's metrics, and exits
1 when a threshold of the scenario files (or --min/--max) is missed."""

from __future__ import annotations

import asyncio
import json
import tempfile
from collections.abc import Awaitable
from pathlib import Path
from typing import Annotated, Any, TypeVar, cast

import typer
from langchain_core.language_models import BaseChatModel
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from copilot.errors import CopilotError, ErrorCode
from copilot.llm.factory import aclose_models, make_chat_model
from copilot.packs import load_pack
from copilot.settings import Settings
from copilot.simulation.judge import Judge
from copilot.simulation.metrics import Prices
from copilot.simulation.report import Report, build_report, check_metrics, violations
from copilot.simulation.run import SessionRole, Simulation, TrialResult, UserFactory, store_label
from copilot.simulation.tasks import TaskSet, Thresholds, load_tasks
from copilot.simulation.users import LLMUser, ScriptedUser
from copilot.wiring import open_system

SCRIPTED = "scripted"
T = TypeVar("T")


def user_factory(
    spec: str, base_url: str | None, settings: Settings, tasks: TaskSet
) -> tuple[UserFactory, list[BaseChatModel]]:
    """`scripted` (each task's script) or any `provider:model` the copilot's model factory knows; with the
    models to close after the run (their connection pools)."""
    if spec.strip() == SCRIPTED:
        unscripted = [t.id for t in tasks.tasks if not t.user_scenario.script]
        if unscripted:
            raise CopilotError(
                ErrorCode.BAD_REQUEST,
                f"Task(s) {', '.join(unscripted[:5])} have no script for the scripted user; "
                "pass --user-model provider:model.",
            )
        return (lambda task: ScriptedUser(list(task.user_scenario.script))), []
    if spec.strip() == "offline":
        raise CopilotError(
            ErrorCode.BAD_REQUEST,
            "The offline model cannot play a customer; use 'scripted' or provider:model.",
        )
    model = make_chat_model(
        settings.model_copy(update={"model": spec, "model_base_url": base_url}), load_pack(settings.pack_path)
    )
    return (lambda task: LLMUser(model, task)), [model]


def judge_of(spec: str | None, base_url: str | None, settings: Settings) -> Judge | None:
    """The judge of the NL assertions: any provider:model the model factory knows (None: not graded)."""
    if spec is None:
        return None
    if spec.strip() in (SCRIPTED, "offline"):
        raise CopilotError(
            ErrorCode.BAD_REQUEST, "A judge must be a real model: pass --judge-model provider:model."
        )
    update = {"model": spec, "model_base_url": base_url}
    return Judge(make_chat_model(settings.model_copy(update=update), load_pack(settings.pack_path)), spec)


async def _closing(run: Awaitable[T], models: list[BaseChatModel]) -> T:
    """Await `run`, then close the models' connection pools on the same event loop."""
    try:
        return await run
    finally:
        await aclose_models(models)


def eval_settings(scratch: Path, taskset: TaskSet, *, model: str | None, base_url: str | None) -> Settings:
    """COPILOT_* settings on a scratch SQLite store seeded from the task set's store (never the real one)."""
    overrides: dict[str, Any] = {"model": model, "model_base_url": base_url}
    chosen = {key: value for key, value in overrides.items() if value is not None}
    return Settings(data_dir=scratch, database_url=None, data_path=taskset.store, **chosen)


def _limits(pairs: list[str] | None, option: str) -> dict[str, float]:
    limits = {}
    for pair in pairs or []:
        metric, sep, value = pair.partition("=")
        try:
            limits[metric.strip()] = float(value)
        except ValueError:
            sep = ""
        if not sep:
            raise typer.BadParameter(f"use METRIC=NUMBER, e.g. pass^1=0.8 (got {pair!r})", param_hint=option)
    return limits


def _selected(tasks: TaskSet, ids: list[str] | None, limit: int | None) -> TaskSet:
    chosen = tuple(t for t in tasks.tasks if not ids or t.id in ids)[:limit]
    unknown = set(ids or []) - {t.id for t in chosen}
    if unknown or not chosen:
        raise CopilotError(ErrorCode.BAD_REQUEST, f"No task with id {sorted(unknown) or ids}; check --task.")
    return TaskSet(chosen, tasks.store, tasks.thresholds)


def render(report: Report, console: Console) -> None:
    table = Table("task", "passed", "store ok", "handoffs", "denials", "turns", "tokens")
    for row in report.tasks:
        table.add_row(
            row.task_id, f"{row.passed}/{row.trials}", f"{row.store_matches}/{row.trials}", str(row.handoffs),
            f"{row.denials:.1f}", f"{row.turns:.1f}", f"{row.tokens:.0f}",
        )  # fmt: skip
    console.print(table)
    for row in report.tasks:
        if row.failures:
            console.print(f"{escape(row.task_id)} failed: {escape('; '.join(row.failures))}", soft_wrap=True)
    for row in report.tasks:
        if row.nl_unmet:
            console.print(f"{escape(row.task_id)} NL: {escape('; '.join(row.nl_unmet))}", soft_wrap=True)
    for metric, value in report.summary.items():
        console.print(f"{metric} {value:.4g}")
    console.print(escape(report.nl_note), soft_wrap=True)


def conversations(
    tasks_path: Annotated[Path, typer.Argument(metavar="TASKS", help="τ² tasks.json, a scenario YAML or a directory of them.")],
    *,
    user_model: Annotated[str, typer.Option(help="'scripted' (the tasks' scripts) or provider:model.")] = SCRIPTED,
    user_base_url: Annotated[str | None, typer.Option(help="Base URL of the user model's server.")] = None,
    trials: Annotated[int, typer.Option(min=1, help="Conversations per task (pass^1 … pass^K).")] = 1,
    model: Annotated[str | None, typer.Option(help="The copilot's model (default COPILOT_MODEL).")] = None,
    model_base_url: Annotated[str | None, typer.Option(help="Base URL of the copilot model's server (default COPILOT_MODEL_BASE_URL).")] = None,
    role: Annotated[str, typer.Option(help="customer (signed in) or agent (identifies the customer).")] = "customer",
    task: Annotated[list[str] | None, typer.Option(help="Only these task ids (repeatable).")] = None,
    limit: Annotated[int | None, typer.Option(min=1, help="Only the first N tasks.")] = None,
    max_turns: Annotated[int, typer.Option(min=1, help="Customer moves per conversation.")] = 30,
    price_in: Annotated[float, typer.Option(help="USD per million input tokens (cost).")] = 0.0,
    price_out: Annotated[float, typer.Option(help="USD per million output tokens (cost).")] = 0.0,
    minimum: Annotated[list[str] | None, typer.Option("--min", help="METRIC=VALUE the run must reach.")] = None,
    maximum: Annotated[list[str] | None, typer.Option("--max", help="METRIC=VALUE the run must not exceed.")] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write the full report here.")] = None,
    judge_model: Annotated[str | None, typer.Option(help="provider:model that grades the tasks' NL assertions (reported apart from pass^k).")] = None,
    judge_base_url: Annotated[str | None, typer.Option(help="Base URL of the judge model's server.")] = None,
    judge_price_in: Annotated[float, typer.Option(help="USD per million input tokens of the judge model (judge_cost_per_task).")] = 0.0,
    judge_price_out: Annotated[float, typer.Option(help="USD per million output tokens of the judge model (judge_cost_per_task).")] = 0.0,
) -> None:  # fmt: skip
    """Simulate customers on TASKS against the copilot; report pass^k and conversation metrics."""
    if role not in ("customer", "agent"):
        raise typer.BadParameter("use customer or agent", param_hint="--role")
    err = Console(stderr=True)
    extra = Thresholds(_limits(minimum, "--min"), _limits(maximum, "--max"))
    try:
        taskset = _selected(load_tasks(tasks_path), task, limit)
        thresholds = Thresholds(
            taskset.thresholds.minimum | extra.minimum, taskset.thresholds.maximum | extra.maximum
        )
        check_metrics(thresholds, trials)
        with tempfile.TemporaryDirectory(prefix="copilot-eval-") as scratch:
            settings = eval_settings(Path(scratch), taskset, model=model, base_url=model_base_url)
            make_user, user_models = user_factory(user_model, user_base_url, settings, taskset)
            judge = judge_of(judge_model, judge_base_url, settings)
            if judge is not None:
                user_models.append(judge.model)
            err.print(
                f"{len(taskset.tasks)} task(s) × {trials} on {store_label(taskset.store)}, model {settings.model}"
            )
            simulated = _simulate(
                settings,
                taskset=taskset,
                make_user=make_user,
                trials=trials,
                role=cast(SessionRole, role),
                max_turns=max_turns,
                err=err,
                judge=judge,
            )
            results = asyncio.run(_closing(simulated, user_models))
        report = build_report(results, Prices(price_in, price_out), Prices(judge_price_in, judge_price_out))
        missed = violations(report, thresholds)
    except CopilotError as exc:
        err.print(f"[red]error:[/red] {escape(exc.message)}", soft_wrap=True)
        raise typer.Exit(2) from exc
    render(report, Console())
    if json_out:
        json_out.write_text(json.dumps(report.to_dict(), indent=2))
    if missed:
        err.print("[red]thresholds missed:[/red] " + "; ".join(missed))
        raise typer.Exit(1)


async def _simulate(
    settings: Settings,
    *, taskset: TaskSet, make_user: UserFactory, trials: int, role: SessionRole,
    max_turns: int, err: Console, judge: Judge | None = None,
) -> list[TrialResult]:  # fmt: skip
    def progress(result: TrialResult) -> None:
        mark = "[green]pass[/green]" if result.grade.passed else "[red]fail[/red]"
        err.print(
            f"task {escape(result.task_id)} trial {result.trial}: {mark} ({result.transcript.customer_turns} turns)"
        )

    async with open_system(settings) as system:
        simulation = Simulation(system, taskset, make_user, trials, role, max_turns, judge)
        return await simulation.run(progress)
