"""Document access for tool handlers, with change tracking so a dry-run can show before/after, and optimistic
concurrency so a write never loses an update.

Every document has a `version`. The store remembers the version of each document it read; reading it again
at another version, or writing it when the row no longer has that version (`UPDATE ... WHERE version =
:seen`) or already exists (an insert that collides), raises `DocumentConflict`. This does not rely on the
database's isolation: pysqlite begins a transaction only at the first write, so reads before it are not
isolated on SQLite, and Postgres runs READ COMMITTED.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, NoReturn

from sqlalchemy import Connection, Insert, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError

from copilot.store.schema import documents, resource_owners

Doc = dict[str, Any]
Key = tuple[str, str]

# Hot-path queries built once with bind parameters (SQLAlchemy caches their compiled form).
_KEY = (
    (documents.c.tenant == bindparam("tenant"))
    & (documents.c.kind == bindparam("kind"))
    & (documents.c.id == bindparam("id"))
)
_GET = select(documents.c.data, documents.c.version).where(_KEY)
_GET_OWNER = select(documents.c.owner).where(_KEY)
_GET_SUB_OWNER = select(resource_owners.c.owner).where(
    (resource_owners.c.tenant == bindparam("tenant"))
    & (resource_owners.c.kind == bindparam("kind"))
    & (resource_owners.c.id == bindparam("id"))
)
# Bind names differ from the column names: those are reserved for the SET / VALUES clauses.
_CAS = (
    update(documents)
    .where(
        (documents.c.tenant == bindparam("k_tenant"))
        & (documents.c.kind == bindparam("k_kind"))
        & (documents.c.id == bindparam("k_id"))
        & (documents.c.version == bindparam("seen"))
    )
    .values(data=bindparam("new_data"), version=documents.c.version + 1)
)
# RETURNING tells whether the row went in (psycopg reports rowcount -1 for these inserts).
_INSERTS: dict[str, Insert] = {
    "sqlite": sqlite.insert(documents).on_conflict_do_nothing().returning(documents.c.version),
    "postgresql": postgresql.insert(documents).on_conflict_do_nothing().returning(documents.c.version),
}
_PLAIN_INSERT = insert(documents).returning(documents.c.version)


class DocumentConflict(Exception):
    """A document changed (or appeared) after this store read it: roll the transaction back."""

    def __init__(self, kind: str, id_: str) -> None:
        super().__init__(f"{kind} {id_} changed concurrently")
        self.kind = kind
        self.id = id_


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
    seen: dict[Key, int | None] = field(default_factory=dict)
    """(kind, id) → the version read (None: read as absent); writes compare-and-set against it."""
    conflicted: bool = False
    """Set by any DocumentConflict, so a handler that swallowed one still cannot commit."""

    def get(self, kind: str, id_: str) -> Doc | None:
        row = self.conn.execute(_GET, self._key(kind, id_)).first()
        # No deepcopy: the JSON column is decoded afresh for every row fetched, so the caller already owns a
        # private object (the copy was ~15% of a gateway read call).
        data: Doc | None = row[0] if row else None
        self._saw(kind, id_, row[1] if row else None)
        return data

    def _key(self, kind: str, id_: str) -> dict[str, str]:
        return {"tenant": self.tenant, "kind": kind, "id": id_}

    def _saw(self, kind: str, id_: str, version: int | None) -> None:
        key = (kind, id_)
        if key not in self.seen:
            self.seen[key] = version
        elif self.seen[key] != version:
            self._conflict(kind, id_)

    def _conflict(self, kind: str, id_: str) -> NoReturn:
        self.conflicted = True
        raise DocumentConflict(kind, id_)

    def owner_of(self, kind: str, id_: str) -> str | None:
        """Owner of a top-level document or of a registered sub-resource; None if it does not exist."""
        key = self._key(kind, id_)
        row = self.conn.execute(_GET_OWNER, key).first()
        if row is None:
            row = self.conn.execute(_GET_SUB_OWNER, key).first()
        return row[0] if row else None

    def all(self, kind: str) -> Iterator[Doc]:
        rows = self.conn.execute(
            select(documents.c.id, documents.c.data, documents.c.version)
            .where(documents.c.tenant == self.tenant, documents.c.kind == kind)
            .order_by(documents.c.id)
        ).all()
        for id_, data, version in rows:
            self._saw(kind, id_, version)
            yield data

    def put(self, kind: str, id_: str, data: Doc, owner: str | None = None) -> None:
        """Insert or replace a document, recording the change; DocumentConflict if it changed since read."""
        before = self.get(kind, id_)
        seen = self.seen[(kind, id_)]
        if seen is None:
            self._insert(kind, id_, data, owner)
        else:
            params = {"k_tenant": self.tenant, "k_kind": kind, "k_id": id_, "seen": seen, "new_data": data}
            if self.conn.execute(_CAS, params).rowcount != 1:
                self._conflict(kind, id_)
        self.seen[(kind, id_)] = (seen or 0) + 1
        self.changes.append(Change(kind, id_, before, copy.deepcopy(data)))

    def _insert(self, kind: str, id_: str, data: Doc, owner: str | None) -> None:
        row = {"tenant": self.tenant, "kind": kind, "id": id_, "owner": owner, "data": data, "version": 1}
        try:
            inserted = self.conn.execute(_INSERTS.get(self.conn.dialect.name, _PLAIN_INSERT), row).first()
        except IntegrityError:  # a dialect without ON CONFLICT: the transaction is lost anyway
            self._conflict(kind, id_)
        if inserted is None:
            self._conflict(kind, id_)

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
