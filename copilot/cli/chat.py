"""`copilot chat --user U`: the support graph in the terminal (no HTTP). Tokens stream as they arrive;
previews ask y/n, then the gateway records the decision and the graph resumes."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console
from rich.prompt import Confirm, Prompt

from copilot.cli.serve import settings_with
from copilot.errors import CopilotError
from copilot.events import EventType
from copilot.principal import ROLES, Principal
from copilot.turns import TurnRequest
from copilot.wiring import System, open_system

ReadLine = Callable[[], str | None]
AskYesNo = Callable[[str], bool]


class TerminalSink:
    """An EventSink that renders a turn: streamed text, tool activity, previews, handoffs, errors."""

    def __init__(self, console: Console) -> None:
        self.console = console
        self.previews: list[dict[str, Any]] = []
        self._seq = 0
        self._streaming = False

    async def emit(self, type: EventType, data: dict[str, Any], *, turn_id: str | None = None) -> int:
        self._seq += 1
        if type == "message.delta":
            self.console.print(str(data.get("text", "")), end="", markup=False, highlight=False)
            self._streaming = True
            return self._seq
        self._end_line()
        self._render(type, data)
        return self._seq

    def _end_line(self) -> None:
        if self._streaming:
            self.console.print()
            self._streaming = False

    def _render(self, type: EventType, data: dict[str, Any]) -> None:
        if type == "message.completed":
            cites = ", ".join(
                str(c.get("id", c)) if isinstance(c, dict) else str(c) for c in data.get("citations", [])
            )
            if cites:
                self.console.print(f"[dim]sources: {cites}[/dim]")
        elif type in ("tool.executed", "tool.requested"):
            self.console.print(f"[dim]{type}: {data.get('tool')}[/dim]")
        elif type in ("tool.denied", "tool.invalid", "tool.error", "error"):
            self.console.print(f"[yellow]{type}: {data.get('code')}: {data.get('message')}[/yellow]")
        elif type == "tool.preview":
            self.previews.append(data)
            self._render_preview(data)
        elif type == "handoff.requested":
            self.console.print(f"[magenta]handed off to a human agent: {data.get('summary', '')}[/magenta]")

    def _render_preview(self, data: dict[str, Any]) -> None:
        """The server-rendered sentences, as the widget and the consoles show them."""
        self.console.print("[bold]Please confirm:[/bold]")
        for sentence in data.get("sentences") or [data.get("summary", "")]:
            self.console.print(f"  • {sentence}", markup=False)


async def _confirm_previews(
    system: System, principal: Principal, sink: TerminalSink, conversation_id: str, ask: AskYesNo
) -> None:
    while sink.previews:
        preview = sink.previews.pop(0)
        preview_id = str(preview["preview_id"])
        approve = ask(f"Apply {preview.get('tool')}?")
        try:
            await asyncio.to_thread(system.gateway.decide, principal, preview_id, approve)
        except CopilotError as exc:
            sink.console.print(f"[yellow]{exc.code.value}: {exc.message}[/yellow]")
            continue
        resume = {"preview_id": preview_id, "approved": approve}
        await system.runner(_request(conversation_id, principal, resume=resume), sink)


def _request(conversation_id: str, principal: Principal, **kwargs: Any) -> TurnRequest:
    return TurnRequest(conversation_id, f"turn_{uuid.uuid4().hex[:16]}", principal, **kwargs)


async def chat_session(
    system: System, principal: Principal, console: Console, read_line: ReadLine, ask: AskYesNo
) -> None:
    """Read messages until EOF or /quit; run each as a turn, then settle its previews."""
    conversation_id = f"cli_{uuid.uuid4().hex[:16]}"
    sink = TerminalSink(console)
    while (text := read_line()) is not None and text.strip() not in ("/quit", "/exit"):
        if not text.strip():
            continue
        await system.runner(_request(conversation_id, principal, text=text), sink)
        await _confirm_previews(system, principal, sink, conversation_id, ask)


def _read_line(console: Console) -> ReadLine:
    def read() -> str | None:
        try:
            return Prompt.ask("[bold cyan]you[/bold cyan]", console=console)
        except (EOFError, KeyboardInterrupt):
            return None

    return read


def _ask(question: str) -> bool:
    return bool(Confirm.ask(question))


def chat(
    user: Annotated[str, typer.Option("--user", help="User id to chat as (e.g. a customer of the store).")],
    role: Annotated[str, typer.Option("--role", help=f"One of {', '.join(ROLES)}.")] = "customer",
    tenant: Annotated[str | None, typer.Option("--tenant", help="Tenant (default: demo).")] = None,
    data: Annotated[
        Path | None, typer.Option("--data", help="τ²-format db.json to load on first start.")
    ] = None,
) -> None:
    """Chat with the copilot in the terminal through the same graph and gateway as the API."""
    if role not in ROLES:
        raise typer.BadParameter(f"use one of {', '.join(ROLES)}", param_hint="--role")
    settings = settings_with(data_path=data)
    principal = Principal(tenant=tenant or settings.default_tenant, role=role, user_id=user)
    console = Console()
    console.print(f"Chatting as {principal.label()} — /quit to leave.")

    async def run() -> None:
        async with open_system(settings) as system:
            await chat_session(system, principal, console, _read_line(console), _ask)

    try:
        asyncio.run(run())
    except CopilotError as exc:
        Console(stderr=True).print(f"[red]{exc.message}[/red]")
        raise typer.Exit(1) from exc
