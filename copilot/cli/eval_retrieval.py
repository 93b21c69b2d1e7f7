"""`copilot eval retrieval --docs JSONL --tasks JSONL [--split …]`: recall@10, precision@5 and MRR@10 of
required documents, for the hybrid retriever and plain bm25s over whole documents, in the same run."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from copilot.errors import CopilotError
from copilot.knowledge.embedder import DEFAULT_EMBEDDER, make_embedder
from copilot.knowledge.evaluation import RetrievalTask, Scores, evaluate, load_tasks
from copilot.knowledge.index import KnowledgeBase
from copilot.knowledge.ingest import load_path


def retrieval(
    docs: Annotated[Path, typer.Option(help="Documents JSONL ({id,title,content}).")],
    tasks: Annotated[Path, typer.Option(help="Tasks JSONL (instructions, required_documents).")],
    split: Annotated[
        str,
        typer.Option(help="all | calibration | evaluation (sha256(task id) first byte even = calibration)."),
    ] = "all",
    embedder: Annotated[
        str, typer.Option(help="Dense model: wordllama, none (BM25 only) or st:<local model directory>.")
    ] = DEFAULT_EMBEDDER,
) -> None:
    """Index DOCS, retrieve for each task's scenario as staff, report the metrics and the baseline."""
    err = Console(stderr=True)
    if split not in ("all", "calibration", "evaluation"):
        err.print(f"[red]error:[/red] --split {escape(split)!r}: use all, calibration or evaluation.")
        raise typer.Exit(2)
    try:
        with err.status("Indexing documents"):
            kb = KnowledgeBase(load_path(docs), embedder=make_embedder(embedder))
        task_list = load_tasks(tasks, split)  # type: ignore[arg-type]
    except CopilotError as exc:
        err.print(f"[red]error:[/red] {escape(exc.message)}", soft_wrap=True)
        raise typer.Exit(2) from exc
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err) as progress:
        bar = progress.add_task("Retrieving", total=len(task_list))

        def advance(_task: RetrievalTask, _score: Scores) -> None:
            progress.advance(bar)

        ours, baseline = evaluate(kb, task_list, on_task=advance)
    ratio = ours.recall_at_10 / baseline.recall_at_10 if baseline.recall_at_10 else float("inf")
    typer.echo(f"baseline (bm25s, whole documents)  {baseline.line()}")
    typer.echo(f"hybrid ({embedder})  {ours.line()}  recall ratio {ratio:.2f}x")
    typer.echo(f"recall@10 {ours.recall_at_10:.3f} on {len(task_list)} tasks")
