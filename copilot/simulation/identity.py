"""Who the simulated customer is signed in as. In τ² the agent identifies the caller; here the session
does (the widget's token), so the harness finds the task's customer the way a support agent would: from
the gold actions (an identity lookup, a user_id argument, the owner of a named order), else from the
customer's known info (a user id, an email, or a name and zip), looked up through the gateway (reads)."""

from __future__ import annotations

import re
from collections.abc import Iterator

from copilot.gateway.gateway import Gateway
from copilot.principal import Principal
from copilot.simulation.tasks import GoldAction, Task
from copilot.store.documents import DocumentStore

USER_ID = re.compile(r"\b[a-z]+_[a-z]+_\d{3,5}\b")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
NAME_ZIP = re.compile(
    r"\b(?i:you are|you'?re|name is)\s+([A-Z][a-zA-Z'-]+)\s+([A-Z][a-zA-Z'-]+)\b.*?\b(\d{5})\b", re.DOTALL
)


def identify(gateway: Gateway, staff: Principal, task: Task) -> str | None:
    """The task's customer (`user_scenario.customer` first), or None when nothing names one."""
    if task.user_scenario.customer:
        return task.user_scenario.customer
    for found in _from_actions(gateway, staff, task.evaluation_criteria.gold):
        if found:
            return found
    return _from_known_info(gateway, staff, task.user_scenario.brief.known_info)


def _lookup(gateway: Gateway, staff: Principal, tool: str, arguments: dict[str, str]) -> str | None:
    result = gateway.call(staff, tool, arguments)
    return result.result if result.outcome == "executed" and isinstance(result.result, str) else None


def _from_actions(
    gateway: Gateway, staff: Principal, actions: tuple[GoldAction, ...]
) -> Iterator[str | None]:
    for action in actions:
        if action.name.startswith("find_user_id"):
            yield _lookup(gateway, staff, action.name, action.arguments)
        user_id, order_id = action.arguments.get("user_id"), action.arguments.get("order_id")
        if isinstance(user_id, str):
            yield user_id
        if isinstance(order_id, str):
            with gateway.engine.connect() as conn:
                yield DocumentStore(conn, staff.tenant).owner_of("order", order_id)


def _from_known_info(gateway: Gateway, staff: Principal, known: str) -> str | None:
    if match := USER_ID.search(known):
        return match.group(0)
    if match := EMAIL.search(known):
        return _lookup(gateway, staff, "find_user_id_by_email", {"email": match.group(0)})
    if match := NAME_ZIP.search(known):
        first, last, zip_code = match.groups()
        arguments = {"first_name": first, "last_name": last, "zip": zip_code}
        return _lookup(gateway, staff, "find_user_id_by_name_zip", arguments)
    return None
