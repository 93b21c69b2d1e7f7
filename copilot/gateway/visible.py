"""Which tools the model may see for a principal: exactly those the principal's policy lets it call (the
gateway still decides every call; hiding the rest keeps the prompt small and the model from asking for what
it would be refused). Fail closed: a policy that cannot be read hides every tool. One listing is decided on
one policy version (pinned): one stamp read per listing instead of one per tool."""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence

from copilot.gateway.authorizer import Authorizer, pinned
from copilot.gateway.spec import ToolSpec
from copilot.principal import Principal

log = logging.getLogger(__name__)


def permitted_tools(
    authorizer: Authorizer, specs: Sequence[ToolSpec]
) -> Callable[[Principal], list[ToolSpec]]:
    def tools_for(principal: Principal) -> list[ToolSpec]:
        try:
            with pinned(authorizer, tenant=principal.tenant):
                return [s for s in specs if authorizer.allows(principal.role, principal.tenant, s.name)]
        except Exception:
            log.exception("reading the policy for %s failed: no tools bound", principal.label())
            return []

    return tools_for
