"""Casbin-backed Authorizer (the only module that imports casbin), with a per-version decision cache.

Policy model (policies/model.conf): request (sub, dom, obj, act); `p` rows (sub, dom, obj, act, eft) with
deny-override; `g` rows (user/role, role, domain); `p2` rows (sub, dom, key, value) hold scopes and limits.
Domains and objects match with keyMatch, so `*` is every tenant and `get_*` every getter.
"""

from __future__ import annotations

import hashlib
import math
import threading
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import cast

import casbin
from casbin.util import key_match

from copilot.gateway.authorizer import CALL, Scope

# Casbin compiles matchers with `ast.parse` on a cache miss; CPython 3.11's parser is not safe to run from two
# threads at once ("AST constructor recursion depth mismatch"), so evaluations of every authorizer take turns.
_EVALUATION = threading.Lock()

_SCOPES: frozenset[str] = frozenset({"own", "tenant", "none"})


class CasbinAuthorizer:
    def __init__(
        self, model_path: Path | None, policy_path: Path | None, *, model_text: str | None = None,
        adapter: object | None = None, label: str | None = None,
    ) -> None:  # fmt: skip
        """From files, or from `model_text` + a pycasbin adapter (or none: add rows with `add_policies`).
        `label` (e.g. a policy version number) prefixes the version recorded in audit rows."""
        if model_path is not None:
            model_text = model_path.read_text(encoding="utf-8")
        self._model_text = model_text or ""
        model = casbin.model.Model()
        model.load_model_from_text(self._model_text)
        source = casbin.persist.adapters.FileAdapter(str(policy_path)) if policy_path else adapter
        self._enforcer = casbin.Enforcer(model, source) if source is not None else casbin.Enforcer(model)
        self._enforcer.add_named_domain_matching_func("g", key_match)
        self._enforcer.build_role_links()
        self._lock = threading.Lock()
        self._decisions: dict[tuple[str, str, str, str, str], bool] = {}
        self._settings: dict[tuple[str, str, str, str], str | None] = {}
        self._label = label
        self._version = ""
        self._policy_changed()

    @classmethod
    def from_dir(cls, policy_dir: Path) -> CasbinAuthorizer:
        return cls(policy_dir / "model.conf", policy_dir / "policy.csv")

    @classmethod
    def from_rules(
        cls, model_text: str, rules: Iterable[Sequence[str]], *, label: str | None = None
    ) -> CasbinAuthorizer:
        """An in-memory authorizer over rows like ("p", "customer", "*", "calculate", "call", "allow")."""
        authorizer = cls(None, None, model_text=model_text, label=label)
        grouped: dict[str, list[list[str]]] = {}
        for row in rules:
            grouped.setdefault(row[0], []).append(list(row[1:]))
        for ptype, rows in grouped.items():
            authorizer.add_policies(ptype, rows)
        return authorizer

    @property
    def version(self) -> str:
        return self._version

    def rules(self) -> list[tuple[str, ...]]:
        """Every row as (ptype, v0, v1, ...), sorted."""
        out = [("g", *r) for r in self._enforcer.get_named_grouping_policy("g")]
        for ptype in ("p", "p2"):
            out += [(ptype, *r) for r in self._enforcer.get_named_policy(ptype)]
        return sorted(out)

    def save_to(self, adapter: object) -> None:
        """Persist every row through a pycasbin adapter (`save_policy`)."""
        adapter.save_policy(self._enforcer.get_model())  # type: ignore[attr-defined]

    def explain(self, role: str, tenant: str, obj: str, act: str = CALL) -> tuple[bool, list[str]]:
        """Uncached `enforce_ex`: the decision and the rule that decided it (empty: nothing matched)."""
        with self._lock, _EVALUATION:
            allowed, rule = self._enforcer.enforce_ex(role, tenant, obj, act)
        return bool(allowed), [str(v) for v in rule]

    def _policy_changed(self) -> None:
        """Recompute the version (sha256 of model + rows) and drop every cached decision."""
        digest = hashlib.sha256(self._model_text.encode())
        for ptype in ("p", "p2", "g"):
            rows = (
                self._enforcer.get_named_grouping_policy(ptype)
                if ptype == "g"
                else self._enforcer.get_named_policy(ptype)
            )
            for row in sorted(rows):
                digest.update(f"{ptype}|{'|'.join(row)}\n".encode())
        self._version = digest.hexdigest()[:16]
        if self._label:
            self._version = f"{self._label}/{self._version[:8]}"
        self._decisions.clear()
        self._settings.clear()

    def add_policies(self, ptype: str, rows: Sequence[Sequence[str]]) -> None:
        """Add rows of a policy type (`p`, `p2` or `g`) in memory, e.g. from an admin action or a benchmark."""
        plain = [list(r) for r in rows]
        with self._lock:
            if ptype == "g":
                self._enforcer.add_named_grouping_policies(ptype, plain)
            else:
                self._enforcer.add_named_policies(ptype, plain)
            self._policy_changed()

    def reload(self) -> None:
        """Re-read the policy file (after an admin edited it)."""
        with self._lock:
            self._enforcer.load_policy()
            self._policy_changed()

    def enforce_uncached(self, role: str, tenant: str, obj: str, act: str = CALL) -> bool:
        """Raw Casbin enforce, bypassing the cache (tests and benchmarks compare against it)."""
        with _EVALUATION:
            return bool(self._enforcer.enforce(role, tenant, obj, act))

    def allows(self, role: str, tenant: str, obj: str, act: str = CALL) -> bool:
        key = (self._version, role, tenant, obj, act)
        decision = self._decisions.get(key)
        if decision is None:
            with self._lock:
                decision = self.enforce_uncached(role, tenant, obj, act)
                self._decisions[(self._version, role, tenant, obj, act)] = decision
        return decision

    def _roles(self, role: str, tenant: str) -> list[str]:
        inherited = cast(Iterable[str], self._enforcer.get_implicit_roles_for_user(role, tenant))
        return [role, *inherited]

    def setting(self, role: str, tenant: str, key: str) -> str | None:
        """The `p2` value for a role (own rows before inherited, exact tenant before wildcard)."""
        cache_key = (self._version, role, tenant, key)
        if cache_key in self._settings:
            return self._settings[cache_key]
        with self._lock:
            value = self._lookup(role, tenant, key)
            self._settings[(self._version, role, tenant, key)] = value
        return value

    def _lookup(self, role: str, tenant: str, key: str) -> str | None:
        rows = [r for r in self._enforcer.get_named_policy("p2") if len(r) == 4 and r[2] == key]
        value: str | None = None
        for name in self._roles(role, tenant):
            matches = [r for r in rows if r[0] == name and key_match(tenant, r[1])]
            if matches:
                value = sorted(matches, key=lambda r: r[1] != tenant)[0][3].strip()
                break
        return value

    def scope(self, role: str, tenant: str) -> Scope:
        value = self.setting(role, tenant, "scope")
        return cast(Scope, value) if value in _SCOPES else "none"

    def limit(self, role: str, tenant: str, key: str) -> float:
        value = self.setting(role, tenant, key)
        try:
            number = float(value) if value is not None else 0.0
        except ValueError:
            return 0.0
        return 0.0 if math.isnan(number) else number


def pattern_matches(name: str, pattern: str) -> bool:
    """Casbin's keyMatch, as the policy uses it for tenants and tool names (`get_*`, `*`)."""
    return bool(key_match(name, pattern))
