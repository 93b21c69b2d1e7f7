"""`copilot` command line (typer + rich)."""

from __future__ import annotations

import typer

from copilot.cli.eval_cmd import eval_app
from copilot.cli.kb import kb_app

app = typer.Typer(
    help="Support Copilot: serve, chat, mint tokens, call tools, replay red-team cases, evaluate."
)


@app.callback()
def main() -> None:
    """Support Copilot command line."""


app.add_typer(kb_app, name="kb")
app.add_typer(eval_app, name="eval")
