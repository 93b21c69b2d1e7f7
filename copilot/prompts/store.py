"""Prompt versions of one tenant (copilot/store/versioned.py over `prompt_versions` / `prompt_state`): each is
the full template set, who published it, when and why, and a line diff vs its parent per template."""

from __future__ import annotations

import difflib
import hashlib
import json
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from copilot.prompts.templates import FIELDS, Templates
from copilot.store.schema import prompt_state, prompt_versions
from copilot.store.versioned import Document, Version, VersionKind


def digest(templates: Mapping[str, str]) -> str:
    return hashlib.sha256(json.dumps(dict(templates), sort_keys=True).encode()).hexdigest()


def diff_templates(
    before: Mapping[str, str], after: Mapping[str, str], labels: tuple[str, str] = ("before", "after")
) -> dict[str, list[str]]:
    """Template name → unified diff lines, for the templates that differ (in FIELDS order)."""
    names = [f.name for f in FIELDS] + sorted(set(before) | set(after) - {f.name for f in FIELDS})
    changed: dict[str, list[str]] = {}
    for name in names:
        old, new = before.get(name, ""), after.get(name, "")
        if old != new:
            lines = difflib.unified_diff(
                old.splitlines(), new.splitlines(), f"{labels[0]}/{name}", f"{labels[1]}/{name}", lineterm=""
            )
            changed[name] = list(lines)
    return changed


def _stored_diff(before: Any, after: Any) -> dict[str, Any]:
    return {"changed": diff_templates(before or {}, after)}


PROMPTS = Document(
    versions=prompt_versions, state=prompt_state, body="templates", digest=digest, diff=_stored_diff, empty={},
    noun="prompts", where="GET /v1/prompts",
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class PromptVersion:
    version: int
    created_at: datetime
    author: str
    message: str
    kind: VersionKind
    parent: int | None
    rollback_of: int | None
    templates: Templates
    diff: dict[str, list[str]]
    digest: str
    etag: str

    @property
    def label(self) -> str:
        """How audit rows name it."""
        return f"v{self.version}"

    def to_dict(self, *, templates: bool = True) -> dict[str, Any]:
        body: dict[str, Any] = {
            "version": self.version, "created_at": self.created_at.isoformat(), "author": self.author,
            "message": self.message, "kind": self.kind, "parent": self.parent, "rollback_of": self.rollback_of,
            "digest": self.digest, "etag": self.etag, "changed": list(self.diff),
        }  # fmt: skip
        if templates:
            body["templates"] = dict(self.templates)
            body["diff"] = self.diff
        return body


def prompt_version(stored: Version) -> PromptVersion:
    return PromptVersion(
        version=stored.version, created_at=stored.created_at, author=stored.author, message=stored.message,
        kind=stored.kind, parent=stored.parent, rollback_of=stored.rollback_of, templates=dict(stored.body),
        diff=dict(stored.diff.get("changed", {})), digest=stored.digest, etag=stored.etag,
    )  # fmt: skip
