"""`copilot eval retrieval --docs JSONL --tasks JSONL`: recall@10 of required documents."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from copilot.errors import CopilotError
from copilot.knowledge.evaluation import RetrievalTask, evaluate, load_tasks
from copilot.knowledge.index import KnowledgeBase
from copilot.knowledge.ingest import load_path

K = 10


def retrieval(
    docs: Annotated[Path, typer.Option(help="Documents JSONL ({id,title,content}).")],
    tasks: Annotated[Path, typer.Option(help="Tasks JSONL (instructions, required_documents).")],
) -> None:
    """Index DOCS (chunked BM25), retrieve for each task's scenario, report mean recall@10."""
    err = Console(stderr=True)
    try:
        with err.status("Indexing documents"):
            kb = KnowledgeBase(load_path(docs))
        task_list = load_tasks(tasks)
    except CopilotError as exc:
        err.print(f"[red]error:[/red] {escape(exc.message)}", soft_wrap=True)
        raise typer.Exit(2) from exc
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err) as progress:
        bar = progress.add_task("Retrieving", total=len(task_list))

        def advance(_task: RetrievalTask, _score: float) -> None:
            progress.advance(bar)

        score = evaluate(kb, task_list, K, on_task=advance)
    typer.echo(f"recall@{K} {score:.3f} on {len(task_list)} tasks")
