"""`copilot` command line (typer + rich)."""

from __future__ import annotations

import typer

app = typer.Typer(
    help="Support Copilot: serve, chat, mint tokens, call tools, replay red-team cases, evaluate."
)


@app.callback()
def main() -> None:
    """Support Copilot command line."""
