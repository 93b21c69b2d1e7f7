"""HTML → Markdown-ish text with the stdlib parser: headings and text blocks kept, scripts/styles dropped."""

from __future__ import annotations

from html.parser import HTMLParser

_SKIP = frozenset({"script", "style", "noscript", "template", "svg", "head"})
_HEADINGS = {"h1": "# ", "h2": "## ", "h3": "### ", "h4": "#### ", "h5": "##### ", "h6": "###### "}
_BLOCKS = frozenset(
    {"p", "li", "div", "section", "article", "td", "th", "pre", "blockquote", "br", "tr", "dd", "dt"}
)


class _Extractor(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.blocks: list[str] = []
        self.page_title = ""
        self._buffer: list[str] = []
        self._prefix = ""
        self._skip_depth = 0
        self._in_title = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag == "title":
            self._in_title = True
        elif tag in _SKIP:
            self._skip_depth += 1
        elif tag in _HEADINGS or tag in _BLOCKS:
            self._flush()
            self._prefix = _HEADINGS.get(tag, "- " if tag == "li" else "")

    def handle_endtag(self, tag: str) -> None:
        if tag == "title":
            self._in_title = False
        elif tag in _SKIP:
            self._skip_depth = max(0, self._skip_depth - 1)
        elif tag in _HEADINGS or tag in _BLOCKS:
            self._flush()

    def handle_data(self, data: str) -> None:
        if self._in_title:
            self.page_title += data.strip()
        elif self._skip_depth == 0:
            self._buffer.append(data)

    def _flush(self) -> None:
        text = " ".join("".join(self._buffer).split())
        if text:
            self.blocks.append(self._prefix + text)
        self._buffer, self._prefix = [], ""

    def close(self) -> None:
        super().close()
        self._flush()


def html_to_markdown(html: str) -> str:
    """Return Markdown text: `# ` title (h1, else <title>), `## ` sections (h2), paragraphs in between."""
    parser = _Extractor()
    parser.feed(html)
    parser.close()
    blocks = parser.blocks
    if parser.page_title and not any(b.startswith("# ") for b in blocks):
        blocks = [f"# {parser.page_title}", *blocks]
    return "\n\n".join(blocks) + "\n"
