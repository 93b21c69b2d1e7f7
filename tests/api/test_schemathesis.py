"""Schemathesis over the whole OpenAPI of a real server (uvicorn, the real runtime and the demo store, offline
model): every operation gets schema-conforming and schema-violating requests (positive and negative
generation, deterministic, bounded examples per operation; the examples and fuzzing phases), each sent with a customer, an agent, a supervisor,
a tenant admin and the platform admin token, and none may get a server error (`not_a_server_error`)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis import Case, GenerationMode
from schemathesis.checks import not_a_server_error

from copilot.api.app import create_app
from copilot.principal import Role
from copilot.settings import Settings
from copilot.tenants import PLATFORM_TENANT
from tests.api.support import SECRET, serve_in_thread, token

ROLES: list[tuple[Role, str, str]] = [
    ("customer", "demo_customer_0001", "demo"),
    ("agent", "ann", "demo"),
    ("supervisor", "sam", "demo"),
    ("admin", "root", "demo"),
    ("platform", "ops", PLATFORM_TENANT),
]
EXAMPLES = 3
"""Per operation, each sent once per role (45 operations: ~700 requests, ~30 s on 2 busy cores). Schemathesis'
coverage phase (every boundary of every parameter) is left out: it alone took ~100 s here."""


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    settings = Settings(
        data_dir=Path(tmp_path_factory.mktemp("schemathesis")), secret=SECRET, messages_per_minute=10_000
    )
    with serve_in_thread(create_app(settings)) as url:
        yield url


@pytest.fixture(scope="module")
def http() -> Iterator[requests.Session]:
    with requests.Session() as session:
        yield session


# The document the server serves (the same app, built without starting it); requests go to the real server.
schema = schemathesis.openapi.from_dict(create_app(Settings(secret=SECRET)).openapi())
schema.config.generation.update(
    modes=[GenerationMode.POSITIVE, GenerationMode.NEGATIVE], max_examples=EXAMPLES, deterministic=True
)
schema.config.phases.update(phases=["examples", "fuzzing"])


@schema.parametrize()
@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None)
def test_no_server_errors_for_any_role(case: Case[Any], base: str, http: requests.Session) -> None:
    if case.path.endswith("/events") and isinstance(case.query, dict):
        case.query["follow"] = "false"  # a followed stream never ends by itself
    for role, user, tenant in ROLES:
        headers = {**dict(case.headers or {}), **token(role, user, tenant)}
        response = case.call(base_url=base, session=http, headers=headers, timeout=15)
        case.validate_response(response, checks=[not_a_server_error], headers=headers)
