"""A policy rule set as data: rows like ("p", "customer", "*", "calculate", "call", "allow"), parsed from and
written to Casbin's CSV format, with a stable digest and a row diff."""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

Rule = tuple[str, ...]
PTYPES: dict[str, int] = {"p": 5, "p2": 4, "g": 3}
"""Policy type → number of fields after the ptype (see policies/model.conf)."""


@dataclass(frozen=True, slots=True)
class Finding:
    """One lint result. `id` is stable: warnings are acknowledged by id."""

    id: str
    severity: str  # "error" | "warning"
    message: str
    rule: list[str] | None = None


@dataclass(frozen=True, slots=True)
class RuleDiff:
    added: list[Rule] = field(default_factory=list)
    removed: list[Rule] = field(default_factory=list)

    def to_dict(self) -> dict[str, list[list[str]]]:
        return {"added": [list(r) for r in self.added], "removed": [list(r) for r in self.removed]}


def normalize(rows: Iterable[Sequence[str]]) -> list[Rule]:
    """Strip every cell, drop duplicates, sort (so equal rule sets compare and hash equal)."""
    return sorted({tuple(str(cell).strip() for cell in row) for row in rows})


def parse_csv(text: str) -> tuple[list[Rule], list[Finding]]:
    """Casbin policy CSV → rules; blank lines and `#` comments are skipped; bad lines become errors."""
    rules: list[Rule] = []
    errors: list[Finding] = []
    for number, line in enumerate(text.splitlines(), start=1):
        stripped = line.strip()
        if not stripped or stripped.startswith("#"):
            continue
        if '"' in stripped:
            errors.append(
                Finding(f"parse:{number}", "error", f"line {number}: quotes are not supported; remove them.")
            )
            continue
        rules.append(tuple(cell.strip() for cell in stripped.split(",")))
    return rules, errors


def to_csv(rules: Iterable[Rule]) -> str:
    return "".join(", ".join(rule) + "\n" for rule in normalize(rules))


def digest(rules: Iterable[Rule]) -> str:
    body = "\n".join("|".join(rule) for rule in normalize(rules))
    return hashlib.sha256(body.encode()).hexdigest()


def diff_rules(old: Iterable[Rule], new: Iterable[Rule]) -> RuleDiff:
    before, after = set(normalize(old)), set(normalize(new))
    return RuleDiff(added=sorted(after - before), removed=sorted(before - after))
