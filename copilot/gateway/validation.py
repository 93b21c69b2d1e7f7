"""Strict argument validation: JSON only, schema (draft 2020-12), no extras, canonical identifiers.

The object returned by `Validator.validate` is the object the handler executes (callers deep-copy it).
"""

from __future__ import annotations

import json
import math
import unicodedata
from typing import Any

from jsonschema import Draft202012Validator

from copilot.errors import CopilotError, ErrorCode
from copilot.gateway.spec import ToolSpec

_FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Co", "Cs", "Zl", "Zp"})


def _invalid(message: str) -> CopilotError:
    return CopilotError(ErrorCode.INVALID_ARGUMENTS, message)


def _walk_json(value: object, path: str) -> None:
    """Reject anything that is not plain JSON: NaN/Infinity, non-string keys, foreign types."""
    if value is None or isinstance(value, bool | str | int):
        return
    if isinstance(value, float):
        if not math.isfinite(value):
            raise _invalid(f"{path} must be a finite number (NaN and Infinity are not allowed).")
        return
    if isinstance(value, list):
        for i, item in enumerate(value):
            _walk_json(item, f"{path}[{i}]")
        return
    if isinstance(value, dict):
        for key, item in value.items():
            if not isinstance(key, str):
                raise _invalid(f"{path} has a non-string key; use JSON objects only.")
            _walk_json(item, f"{path}.{key}")
        return
    raise _invalid(f"{path} is not a JSON value ({type(value).__name__}).")


def to_plain_json(arguments: object) -> dict[str, Any]:
    """A fresh, plain-JSON copy of the arguments object, or INVALID_ARGUMENTS."""
    if not isinstance(arguments, dict):
        raise _invalid("Tool arguments must be a JSON object of named arguments.")
    _walk_json(arguments, "arguments")
    copied: dict[str, Any] = json.loads(json.dumps(arguments, allow_nan=False))
    return copied


def canonical_identifier(spec: ToolSpec, name: str, raw: str) -> str:
    """NFKC + strip, refuse invisible/control characters, the spec's canonicalizer, ASCII only."""
    text = unicodedata.normalize("NFKC", raw).strip()
    if not text or any(unicodedata.category(ch) in _FORBIDDEN_CATEGORIES for ch in text):
        raise _invalid(f"{name} is not a valid identifier; copy it exactly as shown (e.g. from an order).")
    canonicalizer = spec.identifiers.get(name)
    try:
        canonical = canonicalizer(text) if canonicalizer is not None else text
    except (ValueError, TypeError) as exc:
        raise _invalid(f"{name} {raw!r} is not a valid identifier: {exc}") from None
    if not canonical.isascii():
        raise _invalid(f"{name} {raw!r} is not a valid identifier: ids use plain ASCII letters and digits.")
    return canonical


class Validator:
    """Validates and canonicalises arguments for the tools of one pack (schemas compiled once)."""

    def __init__(self) -> None:
        self._compiled: dict[str, Draft202012Validator] = {}

    def _schema(self, spec: ToolSpec) -> Draft202012Validator:
        validator = self._compiled.get(spec.name)
        if validator is None:
            Draft202012Validator.check_schema(dict(spec.parameters))
            validator = Draft202012Validator(dict(spec.parameters))
            self._compiled[spec.name] = validator
        return validator

    @staticmethod
    def _check_names(spec: ToolSpec, args: dict[str, Any]) -> None:
        """No extra properties, even when a pack's schema forgets additionalProperties: false."""
        allowed = set(dict(spec.parameters).get("properties", {}))
        extra = sorted(set(args) - allowed)
        if extra:
            raise _invalid(f"Unexpected argument(s) {extra}; {spec.name} accepts only {sorted(allowed)}.")

    def _check(self, spec: ToolSpec, args: dict[str, Any]) -> None:
        self._check_names(spec, args)
        error = next(iter(sorted(self._schema(spec).iter_errors(args), key=str)), None)
        if error is not None:
            where = ".".join(str(p) for p in error.absolute_path) or "arguments"
            raise _invalid(f"{where}: {error.message}. Fix the argument and call {spec.name} again.")

    def _canonicalise(self, spec: ToolSpec, args: dict[str, Any]) -> dict[str, Any]:
        out = dict(args)
        for name in set(spec.identifiers) | set(spec.owned):
            value = out.get(name)
            if isinstance(value, str):
                out[name] = canonical_identifier(spec, name, value)
            elif isinstance(value, list):
                out[name] = [canonical_identifier(spec, name, v) if isinstance(v, str) else v for v in value]
        return out

    def validate(self, spec: ToolSpec, arguments: object) -> dict[str, Any]:
        """Plain JSON → known names → canonical identifiers → full schema. Raises INVALID_ARGUMENTS."""
        args = to_plain_json(arguments)
        self._check_names(spec, args)
        canonical = self._canonicalise(spec, args)
        self._check(spec, canonical)
        return canonical
