"""Prompt templates: the seed renders exactly the prompt the graph sent before the registry, placeholders are
checked (required kept, unknown refused) and rendered without touching any other text."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from copilot.principal import Principal
from copilot.prompts.defaults import INSTRUCTIONS, REPAIR, context_block, instructions
from copilot.prompts.templates import PLACEHOLDER, PromptSet, problems, render, seed_templates

WHO = Principal("demo", "customer", "demo_customer_0001")
PASSAGES = [{"id": "returns#1", "title": "Returns", "text": "Returns are free within 30 days."}]
SEED = seed_templates(instructions("Refunds go back to the original payment method.", "Warm."))
plain = st.text(max_size=200).filter(lambda t: PLACEHOLDER.search(t) is None)


def test_the_seed_is_valid_and_renders_the_prompt_as_before() -> None:
    assert problems(SEED) == []
    prompts = PromptSet("v1", SEED)
    fixed = instructions("Refunds go back to the original payment method.", "Warm.")
    block = context_block(WHO, PASSAGES)  # type: ignore[arg-type]
    assert prompts.system(WHO, PASSAGES) == f"{fixed}\n{block}"  # type: ignore[arg-type]
    assert prompts.system(WHO, PASSAGES, "Be brief.") == f"{fixed}\nNote: Be brief.\n\n{block}"  # type: ignore[arg-type]
    assert prompts.repair(["cited [x]", "no such change"]) == REPAIR.replace(
        "{problems}", "cited [x]; no such change"
    )


def test_a_template_without_its_required_placeholder_is_refused_with_what_to_keep() -> None:
    found = problems({**SEED, "system": INSTRUCTIONS, "repair": "Try again."})
    assert any("system template must keep the placeholder {context}" in p for p in found), found
    assert any("repair template must keep the placeholder {problems}" in p for p in found), found


def test_unknown_placeholders_missing_and_foreign_templates_are_named() -> None:
    found = problems({**SEED, "repair": "Wrong: {problem} {problems}", "greeting": "hi", "draft": " "})
    assert "The repair template uses {problem}, which is not a placeholder; it may use {problems}." in found
    assert any(p.startswith("'greeting' is not a prompt template") for p in found)
    assert any(p.startswith("The draft template is missing or empty") for p in found)
    assert len(problems({k: v for k, v in SEED.items() if k != "declined"})) == 1


@given(plain, plain, st.text(max_size=50))
def test_render_replaces_only_placeholders(before: str, after: str, value: str) -> None:
    template = f"{before}{{problems}}{after}"
    assert problems({**SEED, "repair": template}) == []
    assert render(template, {"problems": value}) == f"{before}{value}{after}"
    assert problems({**SEED, "repair": before + after}) != []  # the placeholder is required


@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz_", min_size=1, max_size=12))
def test_any_other_placeholder_in_a_template_is_refused(name: str) -> None:
    found = problems({**SEED, "trimmed": f"Trimmed {{{name}}}."})
    assert found == [
        f"The trimmed template uses {{{name}}}, which is not a placeholder; it may use no placeholders."
    ]
