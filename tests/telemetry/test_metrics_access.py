"""GET /metrics behind COPILOT_METRICS_TOKEN and/or COPILOT_METRICS_ALLOW (the real app over ASGI, clients
at chosen addresses); open when neither is set."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from copilot.api.app import create_app
from copilot.settings import Settings
from tests.api.support import SECRET

TOKEN = "scrape-token-0123456789"


async def _get(tmp_path: Path, client: str = "127.0.0.1", headers: dict[str, str] | None = None,
               **settings: Any) -> httpx.Response:  # fmt: skip
    app = create_app(Settings(data_dir=tmp_path, secret=SECRET, **settings))
    transport = httpx.ASGITransport(app=app, client=(client, 40000))
    async with httpx.AsyncClient(transport=transport, base_url="http://copilot") as http:
        return await http.get("/metrics", headers=headers or {})


async def test_open_by_default(tmp_path: Path) -> None:
    response = await _get(tmp_path, client="203.0.113.9")
    assert response.status_code == 200 and "copilot_turn_duration_seconds" in response.text


@pytest.mark.parametrize("header", [None, "Bearer wrong-token", f"Basic {TOKEN}", TOKEN])
async def test_a_token_is_required_when_configured(tmp_path: Path, header: str | None) -> None:
    response = await _get(
        tmp_path, headers={"Authorization": header} if header else None, metrics_token=TOKEN
    )
    assert response.status_code == 401
    error = response.json()["error"]
    assert error["code"] == "unauthenticated" and "COPILOT_METRICS_TOKEN" in error["message"]


async def test_the_right_token_reads_the_metrics(tmp_path: Path) -> None:
    response = await _get(tmp_path, headers={"Authorization": f"Bearer {TOKEN}"}, metrics_token=TOKEN)
    assert response.status_code == 200 and "copilot_model_calls" in response.text


@pytest.mark.parametrize(("client", "status"), [("10.1.2.3", 200), ("127.0.0.1", 200), ("192.168.1.7", 403),
                                                ("::1", 403), ("testclient", 403)])  # fmt: skip
async def test_an_allow_list_admits_only_its_networks(tmp_path: Path, client: str, status: int) -> None:
    response = await _get(tmp_path, client=client, metrics_allow=["10.0.0.0/8", "127.0.0.1"])
    assert response.status_code == status
    if status == 403:
        assert response.json()["error"]["code"] == "forbidden"


async def test_both_must_hold_when_both_are_set(tmp_path: Path) -> None:
    allowed: dict[str, Any] = {"metrics_allow": ["10.0.0.0/8"], "metrics_token": TOKEN}
    bearer = {"Authorization": f"Bearer {TOKEN}"}
    assert (await _get(tmp_path, client="10.0.0.1", **allowed)).status_code == 401
    assert (await _get(tmp_path, client="172.16.0.1", headers=bearer, **allowed)).status_code == 403
    assert (await _get(tmp_path, client="10.0.0.1", headers=bearer, **allowed)).status_code == 200


def test_a_bad_network_is_refused_at_start(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="metrics_allow"):
        Settings(data_dir=tmp_path, metrics_allow=["not-a-network"])  # type: ignore[list-item]
