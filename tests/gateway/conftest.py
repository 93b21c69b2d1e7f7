"""A tiny in-test pack (retail tool names, so the real policy applies) over a real SQLite store."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine

from copilot.errors import ToolError
from copilot.gateway.casbin_authorizer import CasbinAuthorizer
from copilot.gateway.gateway import Gateway
from copilot.gateway.spec import Tool, ToolContext, ToolSpec
from copilot.packs import Pack
from copilot.principal import Principal, Role
from copilot.settings import PROJECT_ROOT
from copilot.store.database import make_engine
from copilot.store.documents import DocumentStore
from tests.gateway.retail import backend, retail_engine, retail_gateway  # noqa: F401 (fixtures)

_ORDER = re.compile(r"^#W\d{7}$")


def order_id(text: str) -> str:
    text = text.upper()
    text = text if text.startswith("#") else "#" + text
    if not _ORDER.fullmatch(text):
        raise ValueError("order ids look like #W1234567")
    return text


def lower_id(text: str) -> str:
    if not re.fullmatch(r"[a-z0-9_]+", text.lower()):
        raise ValueError("ids contain only letters, digits and underscores")
    return text.lower()


def _obj(props: dict[str, Any], required: list[str], *, strict: bool = True) -> dict[str, Any]:
    schema: dict[str, Any] = {"type": "object", "properties": props, "required": required}
    if strict:
        schema["additionalProperties"] = False
    return schema


ORDER_ARG = {"type": "string"}


def get_order(ctx: ToolContext, args: dict[str, Any]) -> Any:
    order = ctx.store.get("order", args["order_id"])
    if order is None:
        raise ToolError("Order not found.")
    return order


def get_user(ctx: ToolContext, args: dict[str, Any]) -> Any:
    return ctx.store.get("user", args["user_id"])


def cancel(ctx: ToolContext, args: dict[str, Any]) -> Any:
    order = get_order(ctx, args)
    if order["status"] != "pending":
        raise ToolError("Only pending orders can be cancelled.")
    order["status"] = "cancelled"
    order["args_seen"] = args["order_id"]
    args["order_id"] = "#W9999999"  # a handler mutating its arguments must not affect the executed object
    ctx.store.put("order", order["id"], order)
    ctx.amount = order["total"]
    ctx.facts = {"refund_to": order["payment_method_id"]}
    return {"status": "cancelled"}


def refund(ctx: ToolContext, args: dict[str, Any]) -> Any:
    order = get_order(ctx, args)
    order["refunded"] = order.get("refunded", 0) + args["amount"]
    ctx.store.put("order", order["id"], order)
    ctx.amount = args["amount"]
    ctx.facts = {"refund_to": args["payment_method_id"]}
    return {"refunded": args["amount"]}


def crash(ctx: ToolContext, args: dict[str, Any]) -> Any:
    order = get_order(ctx, args)
    order["status"] = "corrupted"
    ctx.store.put("order", order["id"], order)
    if ctx.dry_run:
        return {"ok": True}
    raise RuntimeError("database exploded at /secret/path")


def sneaky_read(ctx: ToolContext, args: dict[str, Any]) -> Any:
    order = get_order(ctx, args)
    ctx.store.put("order", order["id"], {**order, "status": "viewed"})
    return {"item": args["order_id"]}


def calculate(ctx: ToolContext, args: dict[str, Any]) -> Any:
    return args["quantity"] * args.get("ratio", 1)


def product(ctx: ToolContext, args: dict[str, Any]) -> Any:
    return {"product_id": args["product_id"]}


def _spec(name: str, side: str, params: dict[str, Any], **kw: Any) -> ToolSpec:
    return ToolSpec(name=name, description=name, parameters=params, side_effect=side, **kw)  # type: ignore[arg-type]


REASON = {"type": "string", "enum": ["no longer needed", "ordered by mistake"]}
OWN_ORDER = {"owned": {"order_id": "order"}, "identifiers": {"order_id": order_id}}


def make_tools() -> list[Tool]:
    return [
        Tool(_spec("get_order_details", "read", _obj({"order_id": ORDER_ARG}, ["order_id"]), **OWN_ORDER), get_order),
        Tool(
            _spec("get_user_details", "read", _obj({"user_id": {"type": "string"}}, ["user_id"]),
                  owned={"user_id": "user"}, identifiers={"user_id": lower_id}),
            get_user,
        ),
        Tool(
            _spec("cancel_pending_order", "write", _obj({"order_id": ORDER_ARG, "reason": REASON}, ["order_id", "reason"]),
                  **OWN_ORDER),
            cancel,
        ),
        Tool(
            _spec(
                "return_delivered_order_items", "write",
                _obj({"order_id": ORDER_ARG, "amount": {"type": "number", "minimum": 0},
                      "payment_method_id": {"type": "string"}}, ["order_id", "amount", "payment_method_id"]),
                owned={"order_id": "order", "payment_method_id": "payment_method"},
                identifiers={"order_id": order_id, "payment_method_id": lower_id},
            ),
            refund,
        ),
        Tool(_spec("modify_pending_order_items", "write", _obj({"order_id": ORDER_ARG}, ["order_id"]), **OWN_ORDER), crash),
        Tool(
            _spec("calculate", "none", _obj({"quantity": {"type": "integer"}, "ratio": {"type": "number"}}, ["quantity"])),
            calculate,
        ),
        Tool(_spec("get_item_details", "read", _obj({"order_id": ORDER_ARG}, ["order_id"]), **OWN_ORDER), sneaky_read),
        Tool(_spec("get_product_details", "read", _obj({"product_id": {"type": "string"}}, ["product_id"], strict=False)), product),
    ]  # fmt: skip


def seed(store: DocumentStore, _path: Path | None) -> int:
    for user in ("alice", "bob"):
        store.put("user", user, {"user_id": user, "email": f"{user}@example.com"}, owner=user)
    orders = [("#W0000001", "alice", 100.0), ("#W0000002", "bob", 50.0), ("#W0000003", "alice", 9000.0)]
    for oid, owner, total in orders:
        pm = "gift_card_1111111" if owner == "alice" else "credit_card_2222222"
        doc = {"id": oid, "user_id": owner, "status": "pending", "total": total, "payment_method_id": pm}
        store.put("order", oid, doc, owner=owner)
    store.set_owner("payment_method", "gift_card_1111111", "alice")
    store.set_owner("payment_method", "credit_card_2222222", "bob")
    return len(orders) + 2


@pytest.fixture
def pack(tmp_path: Path) -> Pack:
    return Pack(name="tiny", tools=make_tools(), seed=seed, articles_dir=tmp_path)


@pytest.fixture
def engine(tmp_path: Path, pack: Pack) -> Engine:
    engine = make_engine(f"sqlite:///{tmp_path / 'gw.db'}")
    with engine.begin() as conn:
        pack.seed(DocumentStore(conn, "demo"), None)
    return engine


@pytest.fixture
def authorizer() -> CasbinAuthorizer:
    return CasbinAuthorizer.from_dir(PROJECT_ROOT / "policies")


@pytest.fixture
def gateway(engine: Engine, pack: Pack, authorizer: CasbinAuthorizer) -> Gateway:
    return Gateway(engine, pack, authorizer)


def who(role: Role, user: str = "alice", tenant: str = "demo") -> Principal:
    return Principal(tenant=tenant, role=role, user_id=user)


Doc = Callable[[str], dict[str, Any]]


@pytest.fixture
def order(engine: Engine) -> Doc:
    def read(oid: str) -> dict[str, Any]:
        with engine.connect() as conn:
            doc = DocumentStore(conn, "demo").get("order", oid)
        assert doc is not None
        return doc

    return read
