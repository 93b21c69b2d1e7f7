"""GET /help/{doc_id}: a help-center article (the pack's Markdown) as a small, self-contained HTML page.

Citations in the widget link here as /help/<doc_id>#s<n> (chunk n of a document is, for the short sections
of our articles, its n-th `##` section)."""

from __future__ import annotations

import html
import re
from collections.abc import Sequence
from pathlib import Path

from copilot.errors import CopilotError, ErrorCode
from copilot.knowledge.audience import audience_of, parse_audience, split_front_matter
from copilot.knowledge.chunks import parse_markdown
from copilot.knowledge.citations import DOC_ID, doc_id_from_name
from copilot.settings import Settings

_INLINE = (
    (re.compile(r"\*\*(.+?)\*\*"), r"<strong>\1</strong>"),
    (re.compile(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])"), r"<em>\1</em>"),
    (re.compile(r"`([^`]+)`"), r"<code>\1</code>"),
    (re.compile(r"\[([^\]]+)\]\(((?:https?://|/)[^\s)]*)\)"), r'<a href="\2">\1</a>'),
)
_LIST_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_STYLE = """body{font:16px/1.55 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:#1f2933;
max-width:44rem;margin:0 auto;padding:1.5rem 1rem 4rem}h1{font-size:1.7rem}h2{font-size:1.2rem;margin-top:2rem}
a{color:#1d4ed8}section:target{background:#fff7d6;outline:.4rem solid #fff7d6;border-radius:.2rem}
nav{font-size:.9rem;color:#52606d}"""


def article_dirs(settings: Settings) -> list[Path]:
    """Where articles live: the pack's articles/ and, if a directory, the extra knowledge path."""
    dirs = [settings.pack_path / "articles"]
    if settings.kb_path is not None and settings.kb_path.is_dir():
        dirs.append(settings.kb_path)
    return dirs


def find_article(dirs: list[Path], doc_id: str) -> Path:
    """The Markdown file whose document id is `doc_id` (its stem, made citable), or NOT_FOUND."""
    if DOC_ID.fullmatch(doc_id):
        for directory in dirs:
            for path in sorted(directory.glob("*.md")):
                if path.is_file() and doc_id_from_name(path.stem) == doc_id:
                    return path
    raise CopilotError(ErrorCode.NOT_FOUND, f"No help article {doc_id!r}; see the citations of an answer.")


def public_article(path: Path, prefixes: Sequence[str]) -> str:
    """The article's Markdown without its front matter; an internal article is NOT_FOUND (the help center
    is public: staff read internal documents through retrieval only)."""
    meta, body = split_front_matter(path.read_text(encoding="utf-8"), str(path))
    title, _ = parse_markdown(body)
    explicit = parse_audience(meta.get("audience"), str(path))
    if audience_of(explicit, str(meta.get("title") or title), prefixes) != "public":
        raise CopilotError(
            ErrorCode.NOT_FOUND, f"No help article {path.stem!r}; see the citations of an answer."
        )
    return body


def inline(text: str) -> str:
    """Escape, then apply the few inline Markdown forms the articles use."""
    out = html.escape(text, quote=True)
    for pattern, replacement in _INLINE:
        out = pattern.sub(replacement, out)
    return out


def blocks(body: str) -> str:
    """Paragraphs and bullet/numbered lists of a section body."""
    parts: list[str] = []
    for block in re.split(r"\n\s*\n", body.strip()):
        lines = [line for line in block.splitlines() if line.strip()]
        if lines and all(_LIST_ITEM.match(line) for line in lines):
            items = "".join(f"<li>{inline(_LIST_ITEM.sub('', line))}</li>" for line in lines)
            tag = "ol" if lines[0].lstrip()[:1].isdigit() else "ul"
            parts.append(f"<{tag}>{items}</{tag}>")
        elif lines:
            parts.append(f"<p>{inline(' '.join(line.strip() for line in lines))}</p>")
    return "\n".join(parts)


def render_article(doc_id: str, markdown: str) -> str:
    """A whole HTML page: the title, then one <section id="s<n>"> per `##` section."""
    title, sections = parse_markdown(markdown)
    title = title or doc_id
    body = []
    for n, section in enumerate(sections, start=1):
        heading = f"<h2>{inline(section.heading)}</h2>" if section.heading else ""
        body.append(f'<section id="s{n}">{heading}\n{blocks(section.body)}</section>')
    return (
        '<!doctype html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<link rel="icon" href="data:,"><title>{html.escape(title)} · Help center</title>'
        f"<style>{_STYLE}</style></head><body><nav>Help center</nav><main>"
        f"<h1>{inline(title)}</h1>\n" + "\n".join(body) + "</main></body></html>"
    )
