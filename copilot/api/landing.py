"""GET /: the landing page of a running copilot, linking the demo shop, the consoles, the API docs and the
help-center articles (so a first visit finds everything without reading the README)."""

from __future__ import annotations

import html
from pathlib import Path

from fastapi import APIRouter
from fastapi.responses import HTMLResponse

from copilot.api.deps import RuntimeDep
from copilot.api.help import article_dirs
from copilot.knowledge.chunks import parse_markdown
from copilot.knowledge.citations import DOC_ID

router = APIRouter(tags=["web"], include_in_schema=False)
INDEX = Path(__file__).resolve().parent.parent / "web" / "index.html"


def article_links(dirs: list[Path]) -> str:
    """One <li> per help article (by title), in title order; ids the help route would refuse are skipped."""
    titles: dict[str, str] = {}
    for directory in dirs:
        for path in sorted(directory.glob("*.md")):
            if DOC_ID.fullmatch(path.stem) and path.stem not in titles:
                title, _ = parse_markdown(path.read_text(encoding="utf-8"))
                titles[path.stem] = title or path.stem
    ordered = sorted(titles.items(), key=lambda item: item[1].lower())
    return "".join(
        f'<li><a href="/help/{html.escape(doc, quote=True)}">{html.escape(title)}</a></li>'
        for doc, title in ordered
    )


@router.get("/", response_class=HTMLResponse)
async def landing(runtime: RuntimeDep) -> HTMLResponse:
    page = INDEX.read_text(encoding="utf-8")
    page = page.replace("{{ARTICLES}}", article_links(article_dirs(runtime.settings)))
    return HTMLResponse(page, headers={"Cache-Control": "no-cache"})
