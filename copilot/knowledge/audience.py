"""Who may read a document: `public` (customers, guests, staff) or `internal` (staff only).

A document's audience is, in order: its explicit `audience` (Markdown front matter, or a JSONL record's
`audience` / `metadata.audience`); else `internal` when its title starts with one of the configured internal
title prefixes (default `Internal:`, case-insensitive; `COPILOT_KB_INTERNAL_TITLE_PREFIXES`); else `public`.
Customers, guests and any role that is not staff retrieve only public documents."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal, cast, get_args

import yaml

from copilot.errors import CopilotError, ErrorCode
from copilot.principal import Principal

Audience = Literal["public", "internal"]
AUDIENCES: tuple[Audience, ...] = get_args(Audience)
PUBLIC_ONLY: frozenset[Audience] = frozenset({"public"})
EVERY_AUDIENCE: frozenset[Audience] = frozenset(AUDIENCES)
DEFAULT_INTERNAL_PREFIXES: tuple[str, ...] = ("Internal:",)


def audiences_for(principal: Principal) -> frozenset[Audience]:
    """What `principal` may retrieve: staff everything, everyone else public documents only."""
    return EVERY_AUDIENCE if principal.is_staff else PUBLIC_ONLY


def parse_audience(value: object, where: str) -> Audience | None:
    """An explicit audience (None when absent); anything but public/internal is a BAD_REQUEST."""
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lower() in AUDIENCES:
        return cast(Audience, value.strip().lower())
    raise CopilotError(
        ErrorCode.BAD_REQUEST, f"{where}: audience must be 'public' or 'internal', not {str(value)[:40]!r}."
    )


def audience_of(explicit: Audience | None, title: str, internal_prefixes: Sequence[str]) -> Audience:
    """The explicit audience, else `internal` for a title with an internal prefix, else `public`."""
    if explicit is not None:
        return explicit
    folded = title.strip().casefold()
    return "internal" if any(folded.startswith(p.casefold()) for p in internal_prefixes if p) else "public"


def split_front_matter(markdown: str, where: str) -> tuple[dict[str, object], str]:
    """(`---` YAML front matter as a dict, the rest); no front matter gives ({}, markdown)."""
    lines = markdown.lstrip("\ufeff").splitlines(keepends=True)
    if not lines or lines[0].strip() != "---":
        return {}, markdown
    for end in range(1, len(lines)):
        if lines[end].strip() in ("---", "..."):
            try:
                meta = yaml.safe_load("".join(lines[1:end])) or {}
            except yaml.YAMLError as exc:
                raise CopilotError(
                    ErrorCode.BAD_REQUEST, f"{where}: front matter is not YAML ({exc})."
                ) from exc
            if not isinstance(meta, dict):
                raise CopilotError(
                    ErrorCode.BAD_REQUEST, f"{where}: front matter must be `key: value` lines."
                )
            return {str(k): v for k, v in meta.items()}, "".join(lines[end + 1 :])
    return {}, markdown
