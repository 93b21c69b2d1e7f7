"""Specs of the side-effect-free tools: calculator and hand-off."""

from __future__ import annotations

from copilot.gateway.spec import Tool, ToolSpec

from . import handlers_generic as h
from . import schemas as s


def generic_tools() -> list[Tool]:
    return [
        Tool(
            ToolSpec(
                name="calculate",
                description=(
                    "Calculate the result of an arithmetic expression such as '2 + 2'. The expression can contain "
                    "numbers, + - * /, parentheses and spaces. The result is rounded to 2 decimals."
                ),
                parameters=s.obj(
                    {
                        "expression": {
                            "type": "string",
                            "pattern": r"^[0-9+\-*/(). ]+$",
                            "minLength": 1,
                            "maxLength": 200,
                            "description": "The expression to calculate, such as '(12.5 + 7) * 2'.",
                        }
                    }
                ),
                side_effect="none",
            ),
            h.calculate,
        ),
        Tool(
            ToolSpec(
                name="transfer_to_human_agents",
                description=(
                    "Transfer the customer to a human agent with a summary of their issue. Only transfer if the "
                    "customer explicitly asks for a human, or the request cannot be handled with the policy and "
                    "the available tools."
                ),
                parameters=s.obj({"summary": s.text("A summary of the customer's issue.", max_length=2000)}),
                side_effect="none",
            ),
            h.transfer_to_human_agents,
        ),
    ]
