"""Classification of provider failures and the retry policy (delays honour Retry-After, within bounds)."""

from __future__ import annotations

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from copilot.errors import ErrorCode
from copilot.llm.calls import CallPolicy
from copilot.llm.errors import ModelError, classify, retry_after


class Status(Exception):
    def __init__(self, status_code: int, message: str = "", headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status_code = status_code
        self.response = type("R", (), {"headers": headers or {}})()


class APITimeoutError(Exception):
    pass


@pytest.mark.parametrize(
    ("exc", "code", "retryable"),
    [
        (Status(429, "slow", {"retry-after": "3"}), ErrorCode.MODEL_RATE_LIMITED, True),
        (Status(503), ErrorCode.MODEL_UNAVAILABLE, True),
        (Status(529), ErrorCode.MODEL_UNAVAILABLE, True),
        (Status(401, "bad key"), ErrorCode.MODEL_UNAVAILABLE, False),
        (
            Status(400, "This model's maximum context length is 8192 tokens"),
            ErrorCode.CONTEXT_OVERFLOW,
            False,
        ),
        (TimeoutError(), ErrorCode.MODEL_TIMEOUT, True),
        (APITimeoutError("read"), ErrorCode.MODEL_TIMEOUT, True),
        (ConnectionRefusedError(), ErrorCode.MODEL_UNAVAILABLE, True),
        (json.JSONDecodeError("x", "{", 0), ErrorCode.MODEL_OUTPUT_INVALID, True),
    ],
)
def test_classify(exc: Exception, code: ErrorCode, retryable: bool) -> None:
    error = classify(exc)
    assert error is not None and error.code is code and error.retryable is retryable
    assert "human" in error.message  # every customer message offers a person


def test_a_bug_is_not_a_model_error() -> None:
    assert classify(KeyError("oops")) is None


def test_retry_after_forms() -> None:
    assert retry_after({"retry-after": "2.5"}) == 2.5
    assert retry_after({"retry-after-ms": "1500", "retry-after": "9"}) == 1.5
    assert retry_after({"retry-after": "Wed, 21 Oct 2015 07:28:00 GMT"}) == 0.0
    assert retry_after({}) is None


@given(st.integers(0, 5), st.floats(0, 60), st.integers(0, 4))
def test_delay_honours_retry_after_within_bounds(retries: int, wait: float, attempt: int) -> None:
    policy = CallPolicy(retries=retries, backoff=0.5, max_backoff=8, max_retry_after=20)
    error = ModelError(ErrorCode.MODEL_RATE_LIMITED, "429", retry_after=wait)
    delay = policy.delay(error, attempt)
    if attempt >= retries or wait > 20:
        assert delay is None
    else:
        assert delay is not None and wait <= delay <= max(wait, 8 * 1.2)
    assert policy.delay(ModelError(ErrorCode.CONTEXT_OVERFLOW, "400"), 0) is None
