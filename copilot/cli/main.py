"""`copilot` command line (typer + rich)."""

from __future__ import annotations

import typer

from copilot.cli.chat import chat
from copilot.cli.data import audit_app, data_app, usage_app
from copilot.cli.db import db_app
from copilot.cli.eval_cmd import eval_app
from copilot.cli.kb import kb_app
from copilot.cli.outcomes import outcomes_app
from copilot.cli.policy import policy_app
from copilot.cli.redteam import redteam
from copilot.cli.serve import serve
from copilot.cli.token import token
from copilot.cli.tools_cmd import tools_app

app = typer.Typer(
    help="Support Copilot: serve, chat, mint tokens, call tools, replay red-team cases, evaluate."
)


@app.callback()
def main() -> None:
    """Support Copilot command line."""


app.add_typer(kb_app, name="kb")
app.add_typer(db_app, name="db")
app.add_typer(data_app, name="data")
app.add_typer(audit_app, name="audit")
app.add_typer(usage_app, name="usage")
app.add_typer(outcomes_app, name="outcomes")
app.add_typer(eval_app, name="eval")
app.command("serve")(serve)
app.command("token")(token)
app.command("chat")(chat)
app.add_typer(tools_app, name="tools")
app.add_typer(policy_app, name="policy")
app.command("redteam")(redteam)
