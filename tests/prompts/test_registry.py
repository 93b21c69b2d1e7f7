"""The prompt registry on SQLite and PostgreSQL: seeded per tenant on first use, publish validated and bound to
the edited version's etag, history with who/why, diffs between any two versions, rollback as a new version,
and the stamp a turn reads follows the published version."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import Engine

from copilot.errors import CopilotError, ErrorCode
from copilot.prompts.defaults import instructions
from copilot.prompts.service import PromptRegistry
from copilot.prompts.templates import seed_templates
from copilot.store.database import make_engine
from copilot.store.versioned import PreconditionRequired, VersionConflict
from tests.databases import BACKENDS, postgres_database

SEED = seed_templates(instructions("Be kind.", "Warm."))


@pytest.fixture(params=BACKENDS)
def engine(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Engine]:
    if request.param == "sqlite":
        made = make_engine(f"sqlite:///{tmp_path / 'prompts.db'}")
        yield made
        made.dispose()
        return
    with postgres_database() as url:
        made = make_engine(url)
        yield made
        made.dispose()


def test_each_tenant_is_seeded_on_first_use_and_sees_only_its_own(engine: Engine) -> None:
    registry = PromptRegistry(engine, SEED)
    demo, other = registry.active("demo"), registry.active("acme")
    assert (demo.version, demo.kind, demo.author, demo.templates) == (1, "seed", "system:seed", SEED)
    changed = {**SEED, "declined": "Nothing changed. What instead?"}
    registry.publish("demo", changed, author="admin:root@demo", message="shorter", if_match=demo.etag)
    assert (
        registry.current("demo").version == "v2"
        and registry.current("demo").text("declined") == changed["declined"]
    )
    assert registry.active("acme") == other and registry.current("acme").version == "v1"


def test_publish_needs_the_edited_etag_and_valid_templates(engine: Engine) -> None:
    registry = PromptRegistry(engine, SEED)
    v1 = registry.active("demo")
    with pytest.raises(PreconditionRequired):
        registry.publish("demo", SEED, author="a", message="m", if_match=None)
    with pytest.raises(CopilotError) as invalid:
        registry.publish("demo", {**SEED, "repair": "Try again."}, author="a", message="m", if_match=v1.etag)
    assert invalid.value.code is ErrorCode.PROMPT_INVALID and invalid.value.status == 422
    assert "must keep the placeholder {problems}" in invalid.value.message
    assert registry.active("demo").version == 1  # nothing was published
    registry.publish("demo", {**SEED, "trimmed": "Older messages left out."}, author="a", message="m",
                     if_match=v1.etag)  # fmt: skip
    with pytest.raises(VersionConflict, match="now version 2") as stale:
        registry.publish("demo", SEED, author="b", message="m", if_match=v1.etag)
    assert stale.value.status == 412


def test_history_diff_and_rollback(engine: Engine) -> None:
    registry = PromptRegistry(engine, SEED)
    v1 = registry.active("demo")
    system = SEED["system"].replace("Be kind.", "Be kind and brief.")
    v2 = registry.publish("demo", {**SEED, "system": system}, author="admin:ann@demo", message="brief",
                          if_match=v1.etag)  # fmt: skip
    assert v2.diff.keys() == {"system"}
    assert "-Be kind." in v2.diff["system"] and "+Be kind and brief." in v2.diff["system"]
    assert registry.diff("demo", 1, 2)["changed"]["system"][:2] == ["--- v1/system", "+++ v2/system"]
    v3 = registry.rollback("demo", 1, author="admin:bob@demo", if_match=v2.etag)
    assert (v3.version, v3.kind, v3.rollback_of, v3.templates) == (3, "rollback", 1, SEED)
    assert registry.current("demo").version == "v3"
    versions, total = registry.history("demo")
    assert total == 3
    assert [(v.version, v.author, v.message) for v in versions] == [
        (3, "admin:bob@demo", "rollback to version 1"), (2, "admin:ann@demo", "brief"), (1, "system:seed",
        "seed from the tool pack"),
    ]  # fmt: skip
    with pytest.raises(CopilotError, match="No prompts version 9"):
        registry.get("demo", 9)


def test_two_registries_seeding_at_once_make_one_version(engine: Engine) -> None:
    first, second = PromptRegistry(engine, SEED), PromptRegistry(engine, SEED)
    assert first.current("t1").version == second.current("t1").version == "v1"
    assert first.history("t1")[1] == 1
