"""The web surfaces served by the app from copilot/web/ (no build step): the embeddable widget, the demo
host page, the agent and admin consoles, static files and help-center article pages."""

from __future__ import annotations

import asyncio
import html
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, FastAPI, Query
from fastapi.middleware.cors import CORSMiddleware
from fastapi.responses import FileResponse, HTMLResponse
from fastapi.staticfiles import StaticFiles

from copilot.api import landing
from copilot.api.deps import RuntimeDep
from copilot.api.help import article_dirs, find_article, public_article, render_article
from copilot.auth import mint_token
from copilot.errors import CopilotError, ErrorCode
from copilot.packs import load_pack
from copilot.principal import Principal
from copilot.runtime import Runtime
from copilot.store.documents import DocumentStore

WEB_DIR = Path(__file__).resolve().parent.parent / "web"
NO_CACHE = {"Cache-Control": "no-cache"}

router = APIRouter(tags=["web"], include_in_schema=False)


def _page(name: str, what: str) -> FileResponse:
    path = WEB_DIR / name
    if not path.is_file():
        raise CopilotError(ErrorCode.NOT_FOUND, f"The {what} is not installed ({path.name} is missing).")
    media = "text/javascript" if name.endswith(".js") else "text/html"
    return FileResponse(path, media_type=f"{media}; charset=utf-8", headers=NO_CACHE)


@router.get("/widget.js")
async def widget() -> FileResponse:
    """The customer widget: `<script src="/widget.js" data-token="..." data-tenant="demo" defer>`."""
    return _page("widget.js", "widget")


@router.get("/console")
async def console() -> FileResponse:
    return _page("console.html", "agent console")


@router.get("/admin")
async def admin() -> FileResponse:
    return _page("admin.html", "admin console")


@router.get("/help/{doc_id}", response_class=HTMLResponse)
async def help_article(doc_id: str, runtime: RuntimeDep) -> HTMLResponse:
    """A help-center article (what widget citations link to)."""
    path = find_article(article_dirs(runtime.settings), doc_id)
    markdown = public_article(path, runtime.settings.kb_internal_title_prefixes)
    return HTMLResponse(render_article(doc_id, markdown))


def _demo_user_only(runtime: Runtime, principal: Principal) -> None:
    """?user= signs in only as a demo user of the generated demo store, in development: never on other data
    (COPILOT_DATA_PATH), never in production, never as a user the store does not have."""
    settings = runtime.settings
    demo_users = load_pack(settings.pack_path).demo_users
    if settings.env == "production" or settings.data_path is not None or principal.user_id not in demo_users:
        raise CopilotError(
            ErrorCode.FORBIDDEN,
            f"?user= signs in only as a demo user of the generated demo store ({', '.join(demo_users) or 'none'}),"
            " in development; elsewhere your backend mints customer tokens with the tenant's key.",
        )
    with runtime.engine.connect() as conn:
        if DocumentStore(conn, principal.tenant).get("user", principal.user_id) is None:
            raise CopilotError(ErrorCode.FORBIDDEN, f"This store has no demo user {principal.user_id!r}.")


@router.get("/demo", response_class=HTMLResponse)
async def demo(
    runtime: RuntimeDep,
    user: Annotated[
        str | None, Query(max_length=64, description="Development only: sign in as this customer.")
    ] = None,
) -> HTMLResponse:
    """The example host page. With ?user=ID (development only) this server plays the shop's backend and mints
    a customer token for ID; without it the visitor is a guest."""
    token = ""
    if user:
        principal = Principal(tenant=runtime.settings.default_tenant, role="customer", user_id=user.strip())
        await asyncio.to_thread(_demo_user_only, runtime, principal)
        token = mint_token(runtime.key_ring, principal)
    page = (WEB_DIR / "demo.html").read_text(encoding="utf-8")
    page = page.replace("{{TOKEN}}", html.escape(token, quote=True))
    page = page.replace("{{TENANT}}", html.escape(runtime.settings.default_tenant, quote=True))
    page = page.replace("{{USER}}", html.escape(user or "guest"))
    return HTMLResponse(page, headers=NO_CACHE)


def install(app: FastAPI) -> None:
    """Add the web routes, /static, and CORS so a host page on another origin can embed the widget.
    CORS allows any origin without credentials: the API authenticates with bearer tokens, never cookies."""
    app.include_router(router)
    app.include_router(landing.router)
    app.mount("/static", StaticFiles(directory=WEB_DIR), name="static")
    app.add_middleware(
        CORSMiddleware,
        allow_origins=["*"],
        allow_credentials=False,
        allow_methods=["GET", "POST", "PUT"],  # PUT: a rating (feedback) from the widget
        allow_headers=["Authorization", "Content-Type", "Last-Event-ID"],
        max_age=600,
    )
