"""Requests for every operation of an OpenAPI document, as hypothesis strategies: schema-shaped values (the
subset FastAPI emits: $ref, object, array, string, integer, number, boolean, enum, anyOf) and, half of the
time, arbitrary JSON and out-of-range values (huge integers, wrong types, missing fields, extra fields).

Schemathesis is the reference fuzzer (the full runs in ARCHITECTURE.md use its CLI); it cannot share an
environment with langgraph-cli[inmem] (their jsonschema-rs pins exclude each other), so CI uses this."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from hypothesis import strategies as st

JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=10),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=6), inner, max_size=3),
    max_leaves=6,
)
WILD_INTS = st.sampled_from([-1, 0, 2**31, 2**63 - 1, 2**63, 2**64 + 7, -(2**70)])


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    query: dict[str, str]
    headers: dict[str, str]
    body: Any
    has_body: bool


class Fuzzer:
    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document

    def _resolve(self, schema: dict[str, Any]) -> dict[str, Any]:
        while "$ref" in schema:
            node: Any = self.document
            for part in schema["$ref"].lstrip("#/").split("/"):
                node = node[part]
            schema = node
        return schema

    def value(self, schema: dict[str, Any], depth: int = 0) -> st.SearchStrategy[Any]:
        schema = self._resolve(schema)
        if depth > 4:
            return st.none()
        if "enum" in schema:
            return st.sampled_from(schema["enum"])
        choices: list[dict[str, Any]] = schema.get("anyOf") or schema.get("oneOf") or []
        if choices:
            return st.one_of([self.value(s, depth + 1) for s in choices])
        kind = schema.get("type")
        if kind == "object" or "properties" in schema:
            return self._object(schema, depth)
        if kind == "array":
            items = self.value(schema.get("items", {}), depth + 1)
            return st.lists(items, max_size=min(3, schema.get("maxItems", 3)))
        if kind == "string":
            return st.text(min_size=schema.get("minLength", 0), max_size=min(40, schema.get("maxLength", 40)))
        if kind == "integer":
            return st.integers(schema.get("minimum"), schema.get("maximum")) | WILD_INTS
        if kind == "number":
            return st.floats(allow_nan=False, allow_infinity=False)
        if kind == "boolean":
            return st.booleans()
        return JSON

    def _object(self, schema: dict[str, Any], depth: int) -> st.SearchStrategy[dict[str, Any]]:
        properties: dict[str, Any] = schema.get("properties", {})
        required = set(schema.get("required", []))
        fields = {n: self.value(s, depth + 1) for n, s in properties.items()}
        optional = sorted(set(fields) - required)

        @st.composite
        def build(draw: st.DrawFn) -> dict[str, Any]:
            chosen = required | set(
                draw(st.lists(st.sampled_from(optional), unique=True)) if optional else []
            )
            return {name: draw(fields[name]) for name in sorted(chosen)}

        return build()

    def requests(self, method: str, path: str) -> st.SearchStrategy[Request]:
        operation: dict[str, Any] = self.document["paths"][path][method]
        params = [self._resolve(p) for p in operation.get("parameters", [])]
        content = operation.get("requestBody", {}).get("content", {}).get("application/json")

        @st.composite
        def build(draw: st.DrawFn) -> Request:
            wild = draw(st.booleans())  # half valid-shaped, half anything
            values: dict[str, dict[str, str]] = {"path": {}, "query": {}, "header": {}}
            for param in params:
                where = param["in"]
                if where not in values or (not param.get("required") and draw(st.booleans())):
                    continue
                raw = draw(JSON if wild else self.value(param.get("schema", {})))
                text = str(raw).lower() if isinstance(raw, bool) else str(raw)
                values[where][param["name"]] = quote(text, safe="") if where == "path" else text
            url = path
            for name, text in values["path"].items():
                url = url.replace("{" + name + "}", text or "x")
            headers = {
                k: v for k, v in values["header"].items() if v.isascii() and "\n" not in v and "\r" not in v
            }
            body = None
            if content is not None:
                body = draw(JSON if wild else self.value(content.get("schema", {})))
            return Request(method.upper(), url, values["query"], headers, body, content is not None)

        return build()
