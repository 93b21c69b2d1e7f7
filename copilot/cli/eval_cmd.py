"""`copilot eval ...`: shared sub-app; each evaluation registers its command here."""

from __future__ import annotations

import typer

from copilot.cli.eval_answers import answers
from copilot.cli.eval_conversations import conversations
from copilot.cli.eval_intents import intents
from copilot.cli.eval_oos import oos
from copilot.cli.eval_retrieval import retrieval

eval_app = typer.Typer(
    help="Evaluate retrieval, intent routing and whole conversations.", no_args_is_help=True
)
eval_app.command("retrieval")(retrieval)
eval_app.command("intents")(intents)
eval_app.command("oos")(oos)
eval_app.command("conversations")(conversations)
eval_app.command("answers")(answers)
