"""`copilot eval oos FILE`: utterances that are not support requests, each sent as a new conversation of a
signed-in demo customer through the real graph (configured model, demo store, gateway, knowledge base).
An answer is irrelevant when it cites a help article or calls a tool; account tools are counted apart."""

from __future__ import annotations

import asyncio
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.markup import escape

from copilot import jsonl
from copilot.agent.runner import run_turn
from copilot.errors import CopilotError, ErrorCode
from copilot.events import EventType
from copilot.llm.summaries import TRANSFER_TOOL
from copilot.principal import Principal
from copilot.settings import Settings
from copilot.wiring import open_system

CUSTOMER = Principal("demo", "customer", "demo_customer_0001")


@dataclass
class Outcome:
    utterance: str
    text: str = ""
    citations: list[str] = field(default_factory=list)
    tools: list[str] = field(default_factory=list)

    @property
    def called(self) -> list[str]:
        return [t for t in self.tools if t != TRANSFER_TOOL]

    @property
    def irrelevant(self) -> bool:
        return bool(self.citations or self.called)


@dataclass
class _Collect:
    outcome: Outcome

    async def emit(self, type: EventType, data: dict[str, Any], *, turn_id: str | None = None) -> int:
        if type == "message.completed":
            self.outcome.text = str(data.get("text", ""))
            self.outcome.citations += [str(c.get("id", c)) for c in data.get("citations", [])]
        elif type == "tool.requested":
            self.outcome.tools.append(str(data.get("tool", "")))
        return 0


def read_utterances(path: Path) -> list[str]:
    """One utterance per line (`#` comments and blank lines skipped), or JSONL objects with `text`."""
    if not path.is_file():
        raise CopilotError(ErrorCode.NOT_FOUND, f"{path} does not exist; pass a file of utterances.")
    texts: list[str] = []
    for lineno, line in jsonl.lines(path, comments=True):
        if not line.startswith("{"):
            texts.append(line)
            continue
        record = jsonl.parse(line, f"{path}:{lineno}")
        if not isinstance(record, dict) or not isinstance(record.get("text"), str):
            raise CopilotError(ErrorCode.BAD_REQUEST, f"{path}:{lineno} needs a string field `text`.")
        texts.append(record["text"])
    if not texts:
        raise CopilotError(ErrorCode.BAD_REQUEST, f"{path} has no utterances.")
    return texts


async def run_all(texts: list[str], scratch: Path) -> tuple[list[Outcome], set[str]]:
    """The outcome of each utterance, and the names of the pack's account tools (writes, or reads of
    records the customer owns)."""
    settings = Settings(data_dir=scratch, database_url=None, data_path=None)
    outcomes: list[Outcome] = []
    async with open_system(settings) as system:
        account = {t.spec.name for t in system.pack.tools if t.spec.owned or t.spec.side_effect == "write"}
        for i, text in enumerate(texts):
            outcome = Outcome(text)
            await run_turn(
                system.graph, conversation_id=f"oos-{i}", turn_id=f"t{i}", principal=CUSTOMER,
                sink=_Collect(outcome), text=text,
            )  # fmt: skip
            outcomes.append(outcome)
    return outcomes, account - {TRANSFER_TOOL}


def oos(
    file: Annotated[Path, typer.Argument(help="Utterances: one per line, or JSONL with `text`.")],
    show: Annotated[bool, typer.Option(help="Print every irrelevant answer.")] = True,
) -> None:
    """Rate of irrelevant answers (citing an article or calling a tool) to out-of-scope utterances, and how
    many account tools were called (the goal is 0)."""
    err = Console(stderr=True)
    try:
        texts = read_utterances(file)
        with tempfile.TemporaryDirectory(prefix="copilot-oos-") as scratch, err.status("Answering"):
            outcomes, account = asyncio.run(run_all(texts, Path(scratch)))
    except CopilotError as exc:
        err.print(f"[red]error:[/red] {escape(exc.message)}", soft_wrap=True)
        raise typer.Exit(2) from exc
    bad = [o for o in outcomes if o.irrelevant]
    if show:
        for o in bad:
            typer.echo(
                f"irrelevant: {o.utterance[:80]!r} → {o.text[:80]!r} cites {o.citations} tools {o.tools}"
            )
    tools = sum(len(o.called) for o in outcomes)
    accounts = sum(t in account for o in outcomes for t in o.called)
    rate = len(bad) / len(outcomes)
    typer.echo(
        f"oos irrelevant {rate:.3f} on {len(outcomes)} utterances, tools {tools}, account tools {accounts}"
    )
