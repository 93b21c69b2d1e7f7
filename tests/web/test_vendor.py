"""The vendored chart library (copilot/web/vendor/uplot) is the pinned release, unchanged, with its MIT
license, and the admin page loads it from this server only."""

from __future__ import annotations

import hashlib
import re

from copilot.api.web import WEB_DIR

VENDOR = WEB_DIR / "vendor" / "uplot"


def test_the_vendored_files_match_the_digests_in_its_readme() -> None:
    readme = (VENDOR / "README.md").read_text(encoding="utf-8")
    pinned = dict(re.findall(r"^\| (\S+) \| ([0-9a-f]{64}) \|$", readme, flags=re.MULTILINE))
    assert set(pinned) == {"uPlot.iife.min.js", "uPlot.min.css"}
    for name, digest in pinned.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == digest, name
    version = re.search(r"uplot@([\d.]+)", readme)
    assert version is not None
    assert f"(v{version.group(1)})" in (VENDOR / "uPlot.iife.min.js").read_text(encoding="utf-8")[:100]
    assert (VENDOR / "LICENSE").read_text(encoding="utf-8").startswith("The MIT License")


def test_the_admin_page_loads_it_from_static() -> None:
    page = (WEB_DIR / "admin.html").read_text(encoding="utf-8")
    assert '<script src="/static/vendor/uplot/uPlot.iife.min.js" defer></script>' in page
    assert '<link rel="stylesheet" href="/static/vendor/uplot/uPlot.min.css">' in page
    assert not re.search(r"(src|href)=\"(https?:)?//", page)  # nothing from another origin
