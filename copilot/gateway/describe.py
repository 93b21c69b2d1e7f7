"""The one preview renderer: a write's preview as plain sentences, the same text for the customer's widget,
the agent console, the approvals inbox and the model. From the tool spec's `explain` when it has one (what
changes, amounts, where the money goes, when), else from the record changes — scalar fields only, in words,
never raw JSON or list lengths."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from copilot.gateway.result import FieldChange
from copilot.gateway.sandbox import Run
from copilot.gateway.spec import ToolSpec

MAX_FIELDS = 6


def describe(spec: ToolSpec, args: Mapping[str, Any], run: Run) -> tuple[str, ...]:
    """Sentences for people; never empty."""
    if spec.explain is not None:
        sentences = tuple(s.strip() for s in spec.explain(args, run.facts) if s and s.strip())
        if sentences:
            return sentences
    return generic(spec.name, run)


def summary_of(sentences: tuple[str, ...]) -> str:
    """The sentences as one paragraph (what the model is told and a one-line view shows)."""
    return " ".join(sentences)


def generic(tool: str, run: Run) -> tuple[str, ...]:
    lines = [f"{words(tool).capitalize()}."]
    lines += [line for change in run.changes if (line := _change(change))]
    if run.amount:
        lines.append(f"Amount: {abs(run.amount):,.2f}.")
    return tuple(lines)


def _change(change: FieldChange) -> str:
    what = f"{words(change.kind)} {change.id}"
    if change.before is None:
        return f"Create {what}."
    if change.after is None:
        return f"Delete {what}."
    scalars = [
        f"{words(field)} from {_plain(old)} to {_plain(new)}"
        for field, (old, new) in change.changed.items()
        if not isinstance(old, list | dict) and not isinstance(new, list | dict)
    ][:MAX_FIELDS]
    return f"Change {what}: {'; '.join(scalars)}." if scalars else f"Update {what}."


def _plain(value: Any) -> str:
    if value is None or value == "":
        return "(none)"
    if isinstance(value, float):
        return f"{value:,.2f}"
    return str(value)


def words(name: str) -> str:
    return name.replace("_", " ").strip()
