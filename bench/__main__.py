"""`python -m bench [--quick] [--json PATH]` (what `make bench` runs)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from bench.report import render, to_json
from bench.run import DEFAULT, QUICK, collect


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny iteration counts (smoke test)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    args = parser.parse_args(argv)
    console = Console()
    with console.status("benchmarking (turns, then gateway decisions)…"):
        report = collect(QUICK if args.quick else DEFAULT, quick=args.quick)
    render(report, console)
    if args.json is not None:
        args.json.write_text(json.dumps(to_json(report), indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
