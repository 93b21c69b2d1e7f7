"""The prompt registry of every tenant: read (seeding version 1 from the tool pack on first use), validate,
publish, roll back and diff; and `current(tenant)`, the published set a turn uses (one indexed stamp read,
the rendered set cached per version). Used by the admin API and by every turn."""

from __future__ import annotations

import threading
from collections.abc import Mapping
from typing import Any

from sqlalchemy import Connection, Engine

from copilot.errors import CopilotError, ErrorCode
from copilot.prompts.store import PROMPTS, PromptVersion, diff_templates, prompt_version
from copilot.prompts.templates import FIELDS, PromptSet, Templates, problems
from copilot.store.versioned import PreconditionRequired, VersionConflict, VersionedStore, normalize_etag

SEED_AUTHOR = "system:seed"


def fields() -> list[dict[str, Any]]:
    """What each template is for and the placeholders it must keep / may use (for the admin console)."""
    return [
        {"name": f.name, "purpose": f.purpose, "required": sorted(f.required), "optional": sorted(f.optional),
         "max_chars": f.max_chars}
        for f in FIELDS
    ]  # fmt: skip


def check(templates: Mapping[str, Any]) -> Templates:
    """The templates, or 422 `prompt_invalid` naming every problem (the first in the message)."""
    found = problems(templates)
    if found:
        more = f" (+{len(found) - 1} more)" if len(found) > 1 else ""
        raise CopilotError(
            ErrorCode.PROMPT_INVALID,
            f"The prompts were not published: {found[0]}{more}",
            details={"problems": found},
        )
    return {name: str(text) for name, text in templates.items()}


class PromptRegistry:
    def __init__(self, engine: Engine, seed: Templates) -> None:
        self.engine = engine
        self.seed = check(seed)
        self._lock = threading.Lock()
        self._sets: dict[tuple[str, int], PromptSet] = {}

    def _store(self, tenant: str) -> VersionedStore:
        return VersionedStore(self.engine, PROMPTS, tenant)

    def _seeded(self, tenant: str) -> None:
        self._store(tenant).seed_if_empty(self.seed, author=SEED_AUTHOR, message="seed from the tool pack")

    # -- reads ------------------------------------------------------------------------------------------------
    def active(self, tenant: str) -> PromptVersion:
        stored = self._store(tenant).active()
        if stored is None:
            self._seeded(tenant)
            stored = self._store(tenant).active()
        assert stored is not None  # seeded just now (by us or a concurrent worker)
        return prompt_version(stored)

    def current(self, tenant: str, conn: Connection | None = None) -> PromptSet:
        """The published set for a turn of `tenant`: the stamp read on `conn`, the body read once per version."""
        number = self._store(tenant).active_number(conn)
        if number is None:
            self._seeded(tenant)
            number = self._store(tenant).active_number(conn)
        found = self._sets.get((tenant, number or 0))
        if found is None:
            stored = self._store(tenant).get(number or 0, conn)
            found = PromptSet(f"v{stored.version}", dict(stored.body))
            with self._lock:
                self._sets[(tenant, stored.version)] = found
        return found

    def get(self, tenant: str, number: int) -> PromptVersion:
        self.active(tenant)  # a tenant's first look seeds it
        return prompt_version(self._store(tenant).get(number))

    def history(self, tenant: str, *, limit: int = 50, offset: int = 0) -> tuple[list[PromptVersion], int]:
        self.active(tenant)
        stored, total = self._store(tenant).history(limit=limit, offset=offset)
        return [prompt_version(v) for v in stored], total

    def diff(self, tenant: str, base: int, version: int) -> dict[str, Any]:
        """Per template, the unified diff from version `base` to version `version`."""
        old, new = self.get(tenant, base), self.get(tenant, version)
        changed = diff_templates(old.templates, new.templates, (f"v{base}", f"v{version}"))
        return {"base": base, "version": version, "changed": changed}

    # -- writes -----------------------------------------------------------------------------------------------
    def _check_etag(self, tenant: str, if_match: str | None) -> PromptVersion:
        if not if_match:
            raise PreconditionRequired("GET /v1/prompts")
        active = self.active(tenant)
        if normalize_etag(if_match) != active.etag:
            raise VersionConflict(active.version, "prompts")
        return active

    def publish(
        self, tenant: str, templates: Mapping[str, Any], *, author: str, message: str, if_match: str | None
    ) -> PromptVersion:
        """Validate, then make `templates` the next published version (If-Match: the version edited)."""
        self._check_etag(tenant, if_match)
        body = check(templates)
        stored = self._store(tenant).activate(body, author=author, message=message, if_match=if_match)
        return prompt_version(stored)

    def rollback(
        self, tenant: str, target: int, *, author: str, if_match: str | None, message: str | None = None
    ) -> PromptVersion:
        """A new version whose templates equal version `target`'s (validated like any change)."""
        self._check_etag(tenant, if_match)
        body = check(self.get(tenant, target).templates)
        stored = self._store(tenant).activate(
            body, author=author, message=message or f"rollback to version {target}", if_match=if_match,
            kind="rollback", rollback_of=target,
        )  # fmt: skip
        return prompt_version(stored)
