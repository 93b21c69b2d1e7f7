"""`copilot kb ingest PATH`: add Markdown/HTML/JSONL knowledge to the configured knowledge base."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import track

from copilot.errors import CopilotError
from copilot.knowledge.chunks import Chunk
from copilot.knowledge.ingest import load_file, source_files
from copilot.knowledge.store import ChunkStore, kb_dir, open_knowledge_base
from copilot.packs import load_pack
from copilot.settings import Settings

kb_app = typer.Typer(help="Manage the knowledge base under COPILOT_DATA_DIR.", no_args_is_help=True)


def pack_articles(settings: Settings) -> list[Path]:
    """The configured pack's help-center articles directory, when the pack is present."""
    if not (settings.pack_path / "__init__.py").is_file():
        return []
    return [load_pack(settings.pack_path).articles_dir]


@kb_app.command("ingest")
def ingest(
    path: Annotated[Path, typer.Argument(help="A .md/.html/.jsonl file or a directory of them.")],
) -> None:
    """Chunk PATH, store it under COPILOT_DATA_DIR/kb (replacing documents with the same ids), re-index."""
    settings = Settings()
    err = Console(stderr=True)
    try:
        files = source_files(path)
        chunks: list[Chunk] = []
        for file in track(files, description="Reading", console=err, disable=len(files) < 20):
            chunks.extend(load_file(file, settings.kb_internal_title_prefixes))
        ChunkStore(kb_dir(settings)).replace(chunks)
        with err.status("Indexing"):
            kb = open_knowledge_base(settings, pack_articles(settings))
    except CopilotError as exc:
        err.print(f"[red]error:[/red] {escape(exc.message)}", soft_wrap=True)
        raise typer.Exit(2) from exc
    docs = len({chunk.doc_id for chunk in chunks})
    total_docs = len({chunk.doc_id for chunk in kb.chunks})
    typer.echo(
        f"ingested {docs} documents ({len(chunks)} chunks) from {path}; "
        f"knowledge base: {total_docs} documents, {len(kb)} chunks"
    )
