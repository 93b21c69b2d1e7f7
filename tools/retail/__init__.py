"""Retail demo pack: the 16 tools of the τ²-bench retail domain over a τ²-shaped document store.

Loaded by path with `copilot.packs.load_pack(Path("tools/retail"))`; nothing happens at import time.
"""

from __future__ import annotations

from pathlib import Path

from copilot.packs import Pack

from . import demo_data, intents
from .seed import seed
from .tools_generic import generic_tools
from .tools_read import read_tools
from .tools_write import write_tools

TONE = "Warm, brief and plain-spoken: short sentences, no jargon, one question at a time."


def domain_policy(data_path: Path | None) -> Path:
    """The policy.md that comes with a τ² db.json (beside it), else this pack's own short demo policy."""
    beside = data_path.parent / "policy.md" if data_path is not None else None
    return beside if beside is not None and beside.is_file() else Path(__file__).parent / "policy.md"


def make_pack() -> Pack:
    """The pack: 16 tools, the seed loader, help articles, intents (read on first call), policy and tone."""
    return Pack(
        name="retail",
        tools=(*read_tools(), *write_tools(), *generic_tools()),
        seed=seed,
        articles_dir=Path(__file__).parent / "articles",
        intents=intents.INTENTS,
        demo_users=tuple(user[0] for user in demo_data.FIXED_USERS),
        domain_policy=domain_policy,
        tone=TONE,
    )
