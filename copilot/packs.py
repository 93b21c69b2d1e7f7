"""Tool packs: loaded by path under a private namespace, registered explicitly, no import-time effects."""

from __future__ import annotations

import importlib.util
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from copilot.errors import CopilotError, ErrorCode
from copilot.gateway.spec import Tool
from copilot.store.documents import DocumentStore

Route = Literal["tool", "article", "handoff"]


@dataclass(frozen=True, slots=True)
class Intent:
    """A customer intent, how the offline model routes it, and example utterances written for the pack."""

    name: str
    route: Route
    target: str
    """Tool name for route=tool, article id for route=article, queue/team name for route=handoff."""
    examples: tuple[str, ...]


@dataclass(frozen=True)
class Pack:
    name: str
    tools: Sequence[Tool]
    seed: Callable[[DocumentStore, Path | None], int]
    """Loads demo data (or a τ²-format db.json when a path is given) into the store; returns record count."""
    articles_dir: Path
    intents: Sequence[Intent] = field(default_factory=tuple)
    demo_users: Sequence[str] = field(default_factory=tuple)
    """Users the generated demo store (seed without a path) always has: `/demo?user=` may sign in as them."""
    domain_policy: Callable[[Path | None], Path | None] | None = None
    """The domain policy (markdown) the model follows, given the store's data path (COPILOT_DATA_PATH): e.g.
    the policy.md that comes with a τ² db.json, else the pack's own. Read into the system prompt."""
    tone: str = ""
    """How the assistant speaks (one or two sentences), added to the system prompt."""

    def tool(self, name: str) -> Tool:
        for tool in self.tools:
            if tool.spec.name == name:
                return tool
        raise CopilotError(ErrorCode.UNKNOWN_TOOL, f"Unknown tool {name!r}; call one of {self.tool_names()}.")

    def tool_names(self) -> list[str]:
        return [tool.spec.name for tool in self.tools]


def load_pack(path: Path) -> Pack:
    """Import `<path>/__init__.py` as `copilot_packs.<dir name>` and call its `make_pack()`."""
    name = f"copilot_packs.{path.name}"
    module = sys.modules.get(name)
    if module is None:
        spec = importlib.util.spec_from_file_location(
            name, path / "__init__.py", submodule_search_locations=[str(path)]
        )
        if spec is None or spec.loader is None:
            raise CopilotError(
                ErrorCode.CONFIGURATION, f"No tool pack at {path}; point COPILOT_PACK_PATH at one."
            )
        module = importlib.util.module_from_spec(spec)
        sys.modules.setdefault(
            "copilot_packs",
            importlib.util.module_from_spec(
                importlib.machinery.ModuleSpec("copilot_packs", None, is_package=True)
            ),
        )
        sys.modules[name] = module
        spec.loader.exec_module(module)
    make_pack: Callable[[], Pack] = module.make_pack
    return make_pack()
