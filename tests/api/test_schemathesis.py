"""Schemathesis over the whole OpenAPI of a real server (uvicorn, the real runtime and the demo store, offline
model): every generated request, valid and invalid, sent with a customer, an agent, a supervisor and an admin
token, gets no 5xx. Bounded examples per operation keep it short; the full run (ARCHITECTURE.md, "Abuse limits")
is `schemathesis run URL/openapi.json -c not_a_server_error -n 30 -H "Authorization: Bearer TOKEN"` per role."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis.checks import not_a_server_error
from schemathesis.core.result import Ok
from schemathesis.generation import GenerationMode
from schemathesis.generation.case import Case

from copilot.api.app import create_app
from copilot.principal import Role
from copilot.settings import Settings
from tests.api.support import SECRET, serve_in_thread, token

ROLES: dict[Role, str] = {
    "customer": "demo_customer_0001",
    "agent": "ann",
    "supervisor": "sam",
    "admin": "root",
}
EXAMPLES = 4
"""Per operation and generation mode (valid / invalid requests), each sent once per role."""


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = Settings(
        data_dir=Path(tmp_path_factory.mktemp("fuzz")), secret=SECRET, messages_per_minute=10_000
    )
    with serve_in_thread(create_app(settings)) as url:
        yield url


def _send(case: Case[Any], base: str, session: requests.Session) -> None:
    if case.path.endswith("/events"):
        case.query = {**(case.query or {}), "follow": "false"}  # a followed stream never ends by itself
    for role, user in ROLES.items():
        case.call_and_validate(
            base_url=base, session=session, headers=token(role, user), checks=[not_a_server_error], timeout=10
        )


def test_no_server_errors_for_any_role(base: str) -> None:
    schema = schemathesis.openapi.from_url(f"{base}/openapi.json")
    operations = []
    for result in schema.get_all_operations():
        assert isinstance(result, Ok), result  # the schema itself is valid
        operations.append(result.ok())
    assert len(operations) >= 30
    with requests.Session() as session:
        for operation in operations:
            for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE):

                @given(case=operation.as_strategy(generation_mode=mode))
                @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                          derandomize=True, database=None)  # fmt: skip
                def fuzz(case: Case[Any]) -> None:
                    _send(case, base, session)

                try:
                    fuzz()
                except Unsatisfiable:  # no invalid request exists (an operation without inputs)
                    assert mode is GenerationMode.NEGATIVE, operation.label
