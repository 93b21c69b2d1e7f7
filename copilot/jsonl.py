"""JSON Lines input: the readers of a user's JSONL file (knowledge, evaluation sets, utterances, red-team
cases) walk it through here, so blank lines are skipped alike and a bad line names the file, the line and what
to fix."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

from copilot.errors import CopilotError, ErrorCode


def lines(path: Path, text: str | None = None, *, comments: bool = False) -> Iterator[tuple[int, str]]:
    """(line number, stripped line) of each non-blank line of `text` (default: the file's); with `comments`,
    lines starting with `#` are skipped too."""
    body = path.read_text(encoding="utf-8") if text is None else text
    for lineno, line in enumerate(body.splitlines(), start=1):
        stripped = line.strip()
        if stripped and not (comments and stripped.startswith("#")):
            yield lineno, stripped


def parse(line: str, where: str) -> object:
    """The JSON value of one line; a BAD_REQUEST naming `where` (e.g. `file:12`) when it is not JSON."""
    try:
        return json.loads(line)
    except json.JSONDecodeError as exc:
        raise CopilotError(
            ErrorCode.BAD_REQUEST, f"{where} is not valid JSON ({exc.msg}); fix that line."
        ) from exc


def records(path: Path, text: str | None = None) -> Iterator[tuple[int, object]]:
    """(line number, JSON value) of each non-blank line."""
    for lineno, line in lines(path, text):
        yield lineno, parse(line, f"{path}:{lineno}")
