"""widget.js must stay one classic script, so it carries a copy of shared/sse.js's sseParser: keep them equal."""

from __future__ import annotations

import re
import textwrap
from pathlib import Path

WEB = Path(__file__).resolve().parents[2] / "copilot" / "web"


def parser_source(path: Path) -> str:
    """The body of `function sseParser(...) {...}` (up to the closing brace at its own indent)."""
    text = path.read_text()
    match = re.search(r"^( *)(?:export )?function sseParser\(onFrame\) \{\n.*?^\1\}$", text, re.M | re.S)
    assert match is not None, f"no sseParser in {path}"
    return textwrap.dedent(match.group(0).replace("export function", "function"))


def test_widget_parser_is_a_verbatim_copy_of_the_shared_one() -> None:
    shared = parser_source(WEB / "shared" / "sse.js")
    assert "buffer += held" in shared
    assert parser_source(WEB / "widget.js") == shared
