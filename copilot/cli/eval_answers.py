"""`copilot eval answers QUESTIONS.jsonl`: each question as a fresh conversation through the real graph on a
scratch copy of the demo store; per question the answer, its sources and pass/fail on facts and sources; the
last line is `answers X.XXX correct on N questions, citation precision Y.YYY`."""

from __future__ import annotations

import asyncio
import tempfile
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape

from copilot.errors import CopilotError
from copilot.llm.answer_eval import AnswerReport, Graded, Question, evaluate_answers, load_questions
from copilot.settings import Settings
from copilot.wiring import open_system


def _line(result: Graded) -> str:
    verdict = "[green]pass[/green]" if result.correct else "[red]FAIL[/red]"
    facts = "facts ok" if result.facts_ok else "facts MISSING"
    sources = "sources ok" if result.sources_ok else "sources WRONG"
    cited = ", ".join(result.cited) or "none"
    return (
        f"{verdict} {escape(result.question.text)}\n   → {escape(result.answer[:600])}\n"
        f"   sources: {escape(cited)} (expected {escape(str(result.question.sources))}); {facts}, {sources}"
    )


async def _run(questions: list[Question], settings: Settings, console: Console) -> AnswerReport:
    async with open_system(settings) as system:
        return await evaluate_answers(system, questions, lambda r: console.print(_line(r), soft_wrap=True))


def answers(
    questions_path: Annotated[
        Path,
        typer.Argument(
            metavar="QUESTIONS.jsonl", help='{"text", "user"?, "facts": [regex], "sources": [ids] or "none"}'
        ),
    ],
    model: Annotated[str | None, typer.Option(help="COPILOT_MODEL for this run (default: offline).")] = None,
) -> None:
    """Answer every question (a fresh conversation each, on a scratch store) and grade facts and sources."""
    err = Console(stderr=True)
    try:
        questions = load_questions(questions_path)
    except CopilotError as exc:
        err.print(f"[red]error:[/red] {escape(exc.message)}", soft_wrap=True)
        raise typer.Exit(2) from exc
    with tempfile.TemporaryDirectory(prefix="copilot-eval-answers-") as scratch:
        base = Settings()
        settings = base.model_copy(
            update={"data_dir": Path(scratch), "database_url": None, "model": model or base.model}
        )
        report = asyncio.run(_run(questions, settings, Console()))
    typer.echo(report.summary())
