"""The whole OpenAPI of a real server (uvicorn, the real runtime and the demo store, offline model), fuzzed:
every operation gets schema-shaped and arbitrary requests (tests/api/openapi_fuzz.py), each sent with a
customer, an agent, a supervisor and an admin token, and none gets a 5xx. Bounded examples per operation keep
it short. The full schemathesis runs (ARCHITECTURE.md, "Abuse limits") use its CLI in its own environment."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from hypothesis import HealthCheck, given, settings

from copilot.api.app import create_app
from copilot.principal import Role
from copilot.settings import Settings
from tests.api.openapi_fuzz import Fuzzer, Request
from tests.api.support import SECRET, serve_in_thread, token

ROLES: dict[Role, str] = {
    "customer": "demo_customer_0001",
    "agent": "ann",
    "supervisor": "sam",
    "admin": "root",
}
EXAMPLES = 8
"""Per operation, each sent once per role."""


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = Settings(
        data_dir=Path(tmp_path_factory.mktemp("fuzz")), secret=SECRET, messages_per_minute=10_000
    )
    with serve_in_thread(create_app(settings)) as url:
        yield url


def _send(http: httpx.Client, request: Request) -> None:
    query = {**request.query, "follow": "false"} if request.path.endswith("/events") else request.query
    for role, user in ROLES.items():
        headers = {**request.headers, **token(role, user)}
        response = http.request(request.method, request.path, params=query, headers=headers,
                                json=request.body if request.has_body else None)  # fmt: skip
        assert response.status_code < 500, (role, request, response.status_code, response.text[:300])


def test_no_server_errors_for_any_role(base: str) -> None:
    with httpx.Client(base_url=base, timeout=10) as http:
        fuzzer = Fuzzer(http.get("/openapi.json").json())
        operations = [(m, p) for p, item in fuzzer.document["paths"].items() for m in item]
        assert len(operations) >= 30
        for method, path in operations:

            @given(request=fuzzer.requests(method, path))
            @settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck),
                      derandomize=True, database=None)  # fmt: skip
            def fuzz(request: Request) -> None:
                _send(http, request)

            fuzz()
