"""The web routes over HTTP (no browser): widget, demo page, help articles, guest sessions, CORS."""

from __future__ import annotations

import httpx

from copilot.auth import verify_token
from copilot.settings import Settings
from tests.api.support import SECRET
from tests.web.conftest import LiveServer


def test_widget_demo_and_help_pages(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        widget = http.get("/widget.js")
        assert widget.status_code == 200 and widget.headers["content-type"].startswith("text/javascript")
        assert "customElements.define" in widget.text
        assert http.get("/static/widget.js").text == widget.text

        guest = http.get("/demo")
        assert 'data-token=""' in guest.text and 'src="/widget.js"' in guest.text
        signed_in = http.get("/demo", params={"user": "demo_customer_0001"})
        token = signed_in.text.split('data-token="')[-1].split('"')[0]
        principal = verify_token(SECRET, token)
        assert (principal.role, principal.user_id, principal.tenant) == (
            "customer",
            "demo_customer_0001",
            "demo",
        )

        article = http.get("/help/refund-policy")
        assert article.status_code == 200
        assert "<h1>Refund policy</h1>" in article.text and 'id="s3"' in article.text
        for missing in ("/help/no-such-article", "/help/..%2Fsecret", "/admin-nope"):
            assert http.get(missing).status_code == 404


def test_guest_sessions_mint_guest_tokens_with_a_rate_limit(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url, timeout=10) as http:
        first = http.post("/v1/sessions/guest", json={})
        assert first.status_code == 201, first.text
        principal = verify_token(SECRET, first.json()["token"])
        assert (
            principal.role == "guest"
            and principal.tenant == "demo"
            and principal.user_id.startswith("guest_")
        )
        second = verify_token(SECRET, http.post("/v1/sessions/guest").json()["token"])
        assert second.user_id != principal.user_id  # every visitor is a different guest

        unknown = http.post("/v1/sessions/guest", json={"tenant": "nope"})
        assert unknown.status_code == 404 and unknown.json()["error"]["code"] == "not_found"
        statuses = [http.post("/v1/sessions/guest").status_code for _ in range(25)]
        assert statuses.count(429) >= 1 and statuses[0] == 201
        limited = http.post("/v1/sessions/guest")
        assert limited.json()["error"]["code"] == "rate_limited"


def test_cors_lets_another_origin_call_the_api_with_a_bearer_token(live_server: LiveServer) -> None:
    preflight = httpx.options(
        f"{live_server.url}/v1/conversations",
        headers={
            "Origin": "https://shop.example",
            "Access-Control-Request-Method": "POST",
            "Access-Control-Request-Headers": "authorization,content-type",
        },
        timeout=10,
    )
    assert preflight.status_code == 200
    assert preflight.headers["access-control-allow-origin"] == "*"
    assert "access-control-allow-credentials" not in preflight.headers  # tokens, never cookies


def test_demo_refuses_to_mint_tokens_in_production(live_server: LiveServer) -> None:
    from copilot.api.app import create_app
    from tests.api.support import serve_in_thread

    settings = Settings(
        data_dir=live_server.settings.data_dir, secret=SECRET, env="production", model="offline"
    )
    with serve_in_thread(create_app(settings)) as url:
        assert httpx.get(f"{url}/demo", params={"user": "demo_customer_0001"}, timeout=10).status_code == 403
        assert httpx.get(f"{url}/demo", timeout=10).status_code == 200
