"""Generic tools: a safe calculator (no eval) and the hand-off to a human agent."""

from __future__ import annotations

import ast
import math
import operator
from collections.abc import Callable
from typing import Any

from copilot.errors import ErrorCode, ToolError
from copilot.gateway.spec import ToolContext

ALLOWED_CHARS = frozenset("0123456789+-*/(). ")
MAX_LENGTH = 200
_BINARY: dict[type[ast.operator], Callable[[float, float], float]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def _invalid(reason: str) -> ToolError:
    return ToolError(
        f"Invalid expression: {reason}. Use numbers, + - * /, parentheses and spaces only.",
        ErrorCode.INVALID_ARGUMENTS,
    )


def _value(node: ast.expr) -> float:
    if isinstance(node, ast.Constant):
        if isinstance(node.value, int | float) and not isinstance(node.value, bool):
            return float(node.value)
        raise _invalid("only numbers are allowed")
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.USub | ast.UAdd):
        operand = _value(node.operand)
        return -operand if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
        left, right = _value(node.left), _value(node.right)
        if isinstance(node.op, ast.Div) and right == 0:
            raise _invalid("division by zero")
        return _BINARY[type(node.op)](left, right)
    raise _invalid("unsupported syntax")


def evaluate(expression: str) -> float:
    """Evaluate + - * / arithmetic with parentheses and unary minus; anything else is rejected."""
    if len(expression) > MAX_LENGTH or not set(expression) <= ALLOWED_CHARS:
        raise _invalid("unexpected characters or too long")
    try:
        tree = ast.parse(expression.strip(), mode="eval")
    except SyntaxError as exc:
        raise _invalid("not a well-formed expression") from exc
    result = _value(tree.body)
    if not math.isfinite(result):
        raise _invalid("result is not a finite number")
    return result


def calculate(ctx: ToolContext, args: dict[str, Any]) -> str:
    """Like τ²: the result rounded to 2 decimals, as a string."""
    return str(round(evaluate(args["expression"]), 2))


def transfer_to_human_agents(ctx: ToolContext, args: dict[str, Any]) -> str:
    ctx.facts.update(handoff=True, summary=args["summary"])
    return "Transfer successful"
