"""Load the retail store: a τ²-format db.json when a path is given, else the deterministic demo store.

Seeding replaces the tenant's retail documents (users, orders, products) and payment-method owners with
one bulk insert per table, so it is fast and idempotent.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert

from copilot.errors import CopilotError, ErrorCode
from copilot.store.documents import DocumentStore
from copilot.store.schema import documents, resource_owners

from .demo_data import generate
from .handlers_common import ORDER, PRODUCT, USER

Db = dict[str, dict[str, dict[str, Any]]]
PAYMENT_METHOD = "payment_method"
SECTIONS = ("users", "orders", "products")


def read_db(path: Path) -> Db:
    """Parse a τ²-format db.json, saying what is wrong when it is not one."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        raise CopilotError(ErrorCode.CONFIGURATION, f"Cannot read {path}: {exc}; pass a τ² db.json.") from exc
    if not isinstance(data, dict) or any(not isinstance(data.get(key), dict) for key in SECTIONS):
        raise CopilotError(
            ErrorCode.CONFIGURATION, f"{path} is not a τ² retail db.json: it needs objects {list(SECTIONS)}."
        )
    return data


def _document_rows(tenant: str, db: Db) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = [
        {"tenant": tenant, "kind": USER, "id": key, "owner": key, "data": user}
        for key, user in db["users"].items()
    ]
    rows += [
        {"tenant": tenant, "kind": ORDER, "id": key, "owner": order["user_id"], "data": order}
        for key, order in db["orders"].items()
    ]
    rows += [
        {"tenant": tenant, "kind": PRODUCT, "id": key, "owner": None, "data": product}
        for key, product in db["products"].items()
    ]
    return rows


def _owner_rows(tenant: str, db: Db) -> list[dict[str, Any]]:
    return [
        {"tenant": tenant, "kind": PAYMENT_METHOD, "id": method_id, "owner": user_id}
        for user_id, user in db["users"].items()
        for method_id in user["payment_methods"]
    ]


def load(store: DocumentStore, db: Db) -> int:
    """Replace the tenant's retail data with `db`; returns the number of documents written."""
    conn, tenant = store.conn, store.tenant
    conn.execute(
        delete(documents).where(documents.c.tenant == tenant, documents.c.kind.in_((USER, ORDER, PRODUCT)))
    )
    conn.execute(
        delete(resource_owners).where(
            resource_owners.c.tenant == tenant, resource_owners.c.kind == PAYMENT_METHOD
        )
    )
    rows = _document_rows(tenant, db)
    if rows:
        conn.execute(insert(documents), rows)
    owners = _owner_rows(tenant, db)
    if owners:
        conn.execute(insert(resource_owners), owners)
    return len(rows)


def seed(store: DocumentStore, path: Path | None = None) -> int:
    """The pack's seed: `path` → that τ² db.json, None → the generated demo store (see demo_data)."""
    return load(store, read_db(path) if path is not None else generate())
