"""Calling the model like the unreliable network service it is: a total timeout per attempt, retries with
exponential backoff that honour Retry-After, then the next model of the fallback chain. Failures come out as
typed `ModelError`s; a context overflow is raised at once (the caller trims and asks again)."""

from __future__ import annotations

import asyncio
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from langchain_core.language_models import BaseChatModel, LanguageModelInput
from langchain_core.messages import BaseMessage
from langchain_core.runnables import Runnable, RunnableConfig

from copilot.errors import ErrorCode
from copilot.llm.errors import ModelError, classify

log = logging.getLogger(__name__)
Bound = Runnable[LanguageModelInput, BaseMessage]


@dataclass(frozen=True, slots=True)
class CallPolicy:
    timeout: float | None = None
    """Seconds one attempt may take in total, streaming included (None: no limit of ours)."""
    retries: int = 0
    """Further attempts on the same model after a retryable failure."""
    backoff: float = 0.5
    """First wait; doubled per attempt (±20% jitter), at least what Retry-After asks."""
    max_backoff: float = 8.0
    max_retry_after: float = 20.0
    """A Retry-After longer than this is not waited for: the next model is tried (or the turn ends)."""
    tool_choice: str | None = None

    def delay(self, error: ModelError, attempt: int) -> float | None:
        """Seconds to wait before attempt `attempt + 1` on the same model, or None: move on."""
        if not error.retryable or attempt >= self.retries:
            return None
        if error.retry_after is not None and error.retry_after > self.max_retry_after:
            return None
        wait = min(self.backoff * 2**attempt, self.max_backoff) * random.uniform(0.8, 1.2)
        return float(max(wait, error.retry_after or 0.0))


def bind_chain(
    models: Sequence[BaseChatModel], schemas: list[dict[str, Any]], policy: CallPolicy
) -> list[Bound]:
    """Each model of the chain with the same tools (and tool_choice) bound."""
    if not schemas:
        return list(models)
    extra: dict[str, Any] = {"tool_choice": policy.tool_choice} if policy.tool_choice else {}
    return [model.bind_tools(schemas, **extra) for model in models]


Sleep = Callable[[float], Awaitable[None]]


async def call_chain(
    chain: Sequence[Bound], messages: Sequence[BaseMessage], config: RunnableConfig, policy: CallPolicy,
    *, sleep: Sleep = asyncio.sleep,
) -> BaseMessage:  # fmt: skip
    """The first answer of the chain; the last ModelError when every model failed."""
    last: ModelError | None = None
    for index, model in enumerate(chain):
        attempt = 0
        while True:
            try:
                async with asyncio.timeout(policy.timeout):
                    return await model.ainvoke(list(messages), config)
            except Exception as exc:
                error = classify(exc)
                if error is None:
                    raise
            log.warning(
                "model %d attempt %d failed: %s %s", index, attempt + 1, error.code.value, error.detail
            )
            if error.code is ErrorCode.CONTEXT_OVERFLOW:
                raise error
            last = error
            wait = policy.delay(error, attempt)
            if wait is None:
                break
            await sleep(wait)
            attempt += 1
    assert last is not None, "an empty model chain"
    raise last
