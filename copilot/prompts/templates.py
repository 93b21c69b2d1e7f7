"""The versioned prompt set: which templates there are, the placeholders each must keep and may use, how they
are checked and rendered. A placeholder is `{name}` (lower-case letters and underscores); any other text,
braces included, is left as written, so a pasted policy or JSON example needs no escaping."""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from copilot.principal import Principal
from copilot.prompts.defaults import DECLINED, DRAFT_NOTE, REPAIR, TRIMMED, context_block

if TYPE_CHECKING:
    from copilot.agent.state import PassageState

PLACEHOLDER = re.compile(r"\{([a-z_]+)\}")


@dataclass(frozen=True, slots=True)
class Field:
    name: str
    purpose: str
    required: frozenset[str] = frozenset()
    optional: frozenset[str] = frozenset()
    max_chars: int = 4000


_SYSTEM = (
    "the system prompt: rules, the pack's tone and domain policy; {context} is where the principal line and the "
    "retrieved passages go, {note} a per-call note"
)
FIELDS: tuple[Field, ...] = (
    Field("system", _SYSTEM, frozenset({"context"}), frozenset({"note"}), max_chars=100_000),
    Field("repair", "what the model is told when its answer fails validation; {problems} lists why",
          frozenset({"problems"})),
    Field("declined", "the tool result the model gets when the customer declines a preview"),
    Field("trimmed", "the note added when older messages were left out to fit the context window"),
    Field("draft", "the note for agent-assist drafts (a human agent reviews the reply)"),
)  # fmt: skip
BY_NAME = {f.name: f for f in FIELDS}
Templates = dict[str, str]


def seed_templates(instructions: str) -> Templates:
    """Version 1 of a tenant: `instructions` (our rules + the pack's tone and policy) and our default notes."""
    return {
        "system": f"{instructions}{{note}}\n{{context}}",
        "repair": REPAIR,
        "declined": DECLINED,
        "trimmed": TRIMMED,
        "draft": DRAFT_NOTE,
    }


def _uses(text: str) -> set[str]:
    return set(PLACEHOLDER.findall(text))


def problems(templates: Mapping[str, Any]) -> list[str]:
    """Why `templates` cannot be published (empty: it can). Each problem says what to change."""
    found: list[str] = []
    names = ", ".join(BY_NAME)
    for name in sorted(set(templates) - set(BY_NAME)):
        found.append(f"{name!r} is not a prompt template; the templates are {names}.")
    for spec in FIELDS:
        text = templates.get(spec.name)
        if not isinstance(text, str) or not text.strip():
            found.append(f"The {spec.name} template is missing or empty ({spec.purpose}).")
            continue
        if len(text) > spec.max_chars:
            found.append(f"The {spec.name} template has {len(text)} characters; at most {spec.max_chars}.")
        used = _uses(text)
        for missing in sorted(spec.required - used):
            found.append(
                f"The {spec.name} template must keep the placeholder {{{missing}}} ({spec.purpose})."
            )
        allowed = spec.required | spec.optional
        for unknown in sorted(used - allowed):
            may = ", ".join(f"{{{p}}}" for p in sorted(allowed)) or "no placeholders"
            found.append(
                f"The {spec.name} template uses {{{unknown}}}, which is not a placeholder; it may use {may}."
            )
    return found


def render(text: str, values: Mapping[str, str]) -> str:
    """Replace the known placeholders (validation already refused unknown ones)."""
    return PLACEHOLDER.sub(lambda m: values.get(m.group(1), m.group(0)), text)


@dataclass(frozen=True, slots=True)
class PromptSet:
    """The templates of one published version, as the graph uses them for a turn."""

    version: str
    """"v3" — named on every audit row of the turn."""
    templates: Mapping[str, str]

    def system(self, principal: Principal, passages: Sequence[PassageState], note: str | None = None) -> str:
        boundary = f"\nNote: {note}\n" if note else ""
        return render(
            self.templates["system"], {"note": boundary, "context": context_block(principal, passages)}
        )

    def repair(self, found: Sequence[str]) -> str:
        return render(self.templates["repair"], {"problems": "; ".join(found)})

    def text(self, name: str) -> str:
        """A template without placeholders (declined, trimmed, draft)."""
        return self.templates[name]


def builtin(instructions: str) -> PromptSet:
    """The set a graph uses when no registry is wired (tests, the LangGraph server): the seed, unversioned."""
    return PromptSet("builtin", seed_templates(instructions))


PROMPTS_KEY = "prompts"
"""Where a turn's PromptSet travels: config["configurable"], set by the runner like the principal."""


def prompts_of(config: Mapping[str, Any], fallback: PromptSet) -> PromptSet:
    """The turn's published prompt set, else `fallback` (a graph run without a registry)."""
    found = config.get("configurable", {}).get(PROMPTS_KEY)
    return found if isinstance(found, PromptSet) else fallback
