"""The simulated customers: a scripted one (CI) and any LangChain model (here the ScriptedChatModel)."""

from __future__ import annotations

from langchain_core.messages import AIMessage, SystemMessage

from copilot.llm.scripted import ScriptedChatModel
from copilot.simulation.tasks import ScriptStep, Task
from copilot.simulation.users import Decide, LLMUser, Observation, Say, ScriptedUser, Stop

CARD = {"preview_id": "p1", "tool": "cancel_pending_order", "summary": "cancel #W1", "changes": []}
TASK = Task.model_validate(
    {
        "id": "t",
        "user_scenario": {
            "instructions": {
                "reason_for_call": "Cancel order #W1.",
                "known_info": "You are Ann Lee.",
                "unknown_info": "You forgot your email.",
                "task_instructions": ".",
            }
        },
    }
)


async def test_scripted_user_plays_its_script_in_order() -> None:
    user = ScriptedUser([ScriptStep(say="cancel #W1"), ScriptStep(confirm=True), ScriptStep(say="thanks")])
    assert await user.move(Observation()) == Say("cancel #W1")
    assert await user.move(Observation(preview=CARD)) == Decide("p1", True)
    assert await user.move(Observation(("done",))) == Say("thanks")
    assert await user.move(Observation(("bye",))) == Stop()


async def test_scripted_user_declines_unscripted_previews_and_skips_missing_ones() -> None:
    user = ScriptedUser([ScriptStep(say="where is #W1"), ScriptStep(confirm=True), ScriptStep(say="ok")])
    assert await user.move(Observation()) == Say("where is #W1")
    assert await user.move(Observation(("it is pending",))) == Say("ok")  # no card came: confirm skipped
    assert await user.move(Observation(preview=CARD)) == Decide("p1", False)  # nobody asked for it
    assert await user.move(Observation()) == Stop()


async def test_llm_user_sees_its_instructions_and_the_card_and_stops_on_the_token() -> None:
    model = ScriptedChatModel(
        script=[
            AIMessage("Hi, please cancel order #W1.", usage_metadata=_usage(100, 8)),
            AIMessage("CONFIRM", usage_metadata=_usage(150, 2)),
            AIMessage("###STOP###", usage_metadata=_usage(170, 3)),
        ]
    )
    user = LLMUser(model, TASK)
    assert await user.move(Observation()) == Say("Hi, please cancel order #W1.")
    assert await user.move(Observation(preview=CARD)) == Decide("p1", True)
    assert await user.move(Observation(("It is cancelled.",))) == Stop()
    system, greeting = model.prompts[0][0], model.prompts[0][1]
    assert isinstance(system, SystemMessage)
    assert "Cancel order #W1." in system.text and "You forgot your email." in system.text
    assert "How you behave" not in system.text  # τ²'s "." placeholder is not an instruction
    assert greeting.text == "Hi! How can I help you today?"
    assert "[Confirmation card] cancel #W1" in model.prompts[1][-1].text
    assert (user.usage.input_tokens, user.usage.output_tokens) == (420, 13)
    model.assert_consumed()


async def test_llm_user_declines_a_card_it_does_not_confirm() -> None:
    model = ScriptedChatModel(script=[AIMessage("No, I did not ask for that.")])
    assert await LLMUser(model, TASK).move(Observation(preview=CARD)) == Decide("p1", False)


def _usage(inputs: int, outputs: int) -> dict[str, int]:
    return {"input_tokens": inputs, "output_tokens": outputs, "total_tokens": inputs + outputs}
