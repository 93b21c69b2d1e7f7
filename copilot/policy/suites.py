"""Each tenant's own policy tests: the suites its admin runs before saving (and every save must pass).

A tenant's tests are two parts:
* **platform suites** — the seed's `activation: required` files in policies/tests (the invariants: only admins
  manage the policy, guests never touch accounts…). They run for every tenant and no tenant can edit them.
* **its own suites** — file name → YAML text (`copilot/policy/testing.py` format). A new tenant starts with the
  seed's other files; `PUT /v1/policy/tests` replaces them (`copilot policy test --tenant T` runs them).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from sqlalchemy import Engine, delete, insert, select

from copilot.errors import CopilotError, ErrorCode
from copilot.policy.testing import PolicyCase, parse_suite
from copilot.store.schema import policy_tests

SUITE_FILE = re.compile(r"^[a-z0-9][a-z0-9_-]{0,62}\.yaml$")
MAX_SUITES = 32


def read_suite_files(test_dir: Path) -> dict[str, str]:
    return {p.name: p.read_text(encoding="utf-8") for p in sorted(test_dir.glob("*.yaml"))}


def _required(text: str) -> bool:
    data = yaml.safe_load(text) or {}
    return not (isinstance(data, dict) and data.get("activation") == "advisory")


@dataclass(frozen=True, slots=True)
class TenantSuites:
    tenant: str
    platform: Mapping[str, str]
    own: Mapping[str, str]
    updated_by: str | None
    """None: the tenant still has the seed's suites."""

    def cases(self) -> list[PolicyCase]:
        """Every case: the platform suites, then the tenant's own, each file in name order."""
        found: list[PolicyCase] = []
        for files in (self.platform, self.own):
            for name in sorted(files):
                found += parse_suite(files[name], name)
        return found

    def to_dict(self) -> dict[str, Any]:
        def listed(files: Mapping[str, str]) -> list[dict[str, str]]:
            return [{"file": name, "text": files[name]} for name in sorted(files)]

        return {"tenant": self.tenant, "platform": listed(self.platform), "suites": listed(self.own),
                "customized": self.updated_by is not None, "updated_by": self.updated_by}  # fmt: skip


class SuiteStore:
    def __init__(self, engine: Engine, seed: Mapping[str, str]) -> None:
        self.engine = engine
        self.platform = {n: t for n, t in seed.items() if _required(t)}
        self.defaults = {n: t for n, t in seed.items() if n not in self.platform}

    def of(self, tenant: str) -> TenantSuites:
        with self.engine.connect() as conn:
            row = conn.execute(select(policy_tests).where(policy_tests.c.tenant == tenant)).first()
        if row is None:
            return TenantSuites(tenant, self.platform, self.defaults, None)
        return TenantSuites(tenant, self.platform, dict(row.suites), str(row.updated_by))

    def check(self, tenant: str, files: Mapping[str, str]) -> TenantSuites:
        """The suites `files` would make (names and YAML checked), without saving them."""
        if len(files) > MAX_SUITES:
            raise CopilotError(ErrorCode.BAD_REQUEST, f"At most {MAX_SUITES} suites; merge some files.")
        for name, text in files.items():
            if not SUITE_FILE.match(name):
                raise CopilotError(
                    ErrorCode.BAD_REQUEST,
                    f"Suite file name {name!r} is not valid: use lowercase letters, digits, '-' or '_', ending in .yaml.",
                )
            if name in self.platform:
                raise CopilotError(
                    ErrorCode.BAD_REQUEST,
                    f"{name} is a platform suite: it always runs and is not yours to replace; rename your file.",
                )
            parse_suite(text, name)  # BAD_REQUEST naming the file and case
        return TenantSuites(tenant, self.platform, dict(files), "(proposed)")

    def save(self, suites: TenantSuites, by: str) -> TenantSuites:
        row = {
            "tenant": suites.tenant,
            "suites": dict(suites.own),
            "updated_at": datetime.now(UTC),
            "updated_by": by,
        }
        with self.engine.begin() as conn:
            conn.execute(delete(policy_tests).where(policy_tests.c.tenant == suites.tenant))
            conn.execute(insert(policy_tests).values(**row))
        return TenantSuites(suites.tenant, self.platform, dict(suites.own), by)
