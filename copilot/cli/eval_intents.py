"""`copilot eval intents CSV [--train CSV]`: intent accuracy (pack examples, a train file, or 5-fold CV)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from copilot.errors import CopilotError
from copilot.llm.intent_eval import cross_validate, evaluate_intents, evaluate_trained, load_csv
from copilot.packs import load_pack
from copilot.settings import Settings

FOLDS = 5


def intents(
    csv_path: Annotated[
        Path, typer.Argument(metavar="CSV", help="Labelled utterances (instruction,intent).")
    ],
    train: Annotated[
        Path | None,
        typer.Option(
            help="Train on this CSV instead of the pack's examples; the same file as CSV means 5-fold CV."
        ),
    ] = None,
) -> None:
    """Classify every utterance of CSV and print `accuracy X.XXX on N utterances`."""
    err = Console(stderr=True)
    try:
        rows = load_csv(csv_path)
        train_rows = load_csv(train) if train is not None else None
        same = train is not None and train.resolve() == csv_path.resolve()
        pack = None if train_rows is not None else load_pack(Settings().pack_path)
    except CopilotError as exc:
        err.print(f"[red]error:[/red] {escape(exc.message)}", soft_wrap=True)
        raise typer.Exit(2) from exc
    columns = (TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns, console=err) as progress:
        label = f"{FOLDS}-fold cross-validation" if same else "Classifying"
        bar = progress.add_task(label, total=len(rows))

        def advance(count: int) -> None:
            progress.advance(bar, count)

        if same:
            accuracy = cross_validate(rows, FOLDS, progress=advance)
        elif train_rows is not None:
            accuracy = evaluate_trained(train_rows, rows, progress=advance)
        else:
            assert pack is not None
            accuracy = evaluate_intents(pack.intents, rows, progress=advance, articles_dir=pack.articles_dir)
    typer.echo(f"accuracy {accuracy:.3f} on {len(rows)} utterances")
