"""Document access for tool handlers, with change tracking so a dry-run can show before/after."""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update

from copilot.store.schema import documents, resource_owners

Doc = dict[str, Any]

# Hot-path queries built once with bind parameters (SQLAlchemy caches their compiled form).
_KEY = (
    (documents.c.tenant == bindparam("tenant"))
    & (documents.c.kind == bindparam("kind"))
    & (documents.c.id == bindparam("id"))
)
_GET_DATA = select(documents.c.data).where(_KEY)
_GET_OWNER = select(documents.c.owner).where(_KEY)
_GET_SUB_OWNER = select(resource_owners.c.owner).where(
    (resource_owners.c.tenant == bindparam("tenant"))
    & (resource_owners.c.kind == bindparam("kind"))
    & (resource_owners.c.id == bindparam("id"))
)


@dataclass(slots=True)
class Change:
    kind: str
    id: str
    before: Doc | None
    after: Doc | None


@dataclass
class DocumentStore:
    """A tenant-scoped view of the documents table over one connection (and its transaction)."""

    conn: Connection
    tenant: str
    changes: list[Change] = field(default_factory=list)

    def get(self, kind: str, id_: str) -> Doc | None:
        row = self.conn.execute(_GET_DATA, self._key(kind, id_)).first()
        # No deepcopy: the JSON column is decoded afresh for every row fetched, so the caller already owns a
        # private object (the copy was ~15% of a gateway read call).
        data: Doc | None = row[0] if row else None
        return data

    def _key(self, kind: str, id_: str) -> dict[str, str]:
        return {"tenant": self.tenant, "kind": kind, "id": id_}

    def owner_of(self, kind: str, id_: str) -> str | None:
        """Owner of a top-level document or of a registered sub-resource; None if it does not exist."""
        key = self._key(kind, id_)
        row = self.conn.execute(_GET_OWNER, key).first()
        if row is None:
            row = self.conn.execute(_GET_SUB_OWNER, key).first()
        return row[0] if row else None

    def all(self, kind: str) -> Iterator[Doc]:
        rows = self.conn.execute(
            select(documents.c.data)
            .where(documents.c.tenant == self.tenant, documents.c.kind == kind)
            .order_by(documents.c.id)
        )
        for (data,) in rows:
            yield data

    def put(self, kind: str, id_: str, data: Doc, owner: str | None = None) -> None:
        """Insert or replace a document, recording the change."""
        before = self.get(kind, id_)
        if before is None:
            self.conn.execute(
                insert(documents).values(tenant=self.tenant, kind=kind, id=id_, owner=owner, data=data)
            )
        else:
            self.conn.execute(
                update(documents)
                .where(documents.c.tenant == self.tenant, documents.c.kind == kind, documents.c.id == id_)
                .values(data=data)
            )
        self.changes.append(Change(kind, id_, before, copy.deepcopy(data)))

    def set_owner(self, kind: str, id_: str, owner: str) -> None:
        """Register a sub-resource (e.g. a payment method) as owned by `owner`."""
        self.conn.execute(
            delete(resource_owners).where(
                resource_owners.c.tenant == self.tenant,
                resource_owners.c.kind == kind,
                resource_owners.c.id == id_,
            )
        )
        self.conn.execute(insert(resource_owners).values(tenant=self.tenant, kind=kind, id=id_, owner=owner))
