"""`python -m bench [--quick] [--json PATH] [MODULE]` (`make bench` runs them all; `python -m bench telemetry`
runs only the telemetry-overhead benchmark and prints its summary line)."""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from rich.console import Console

from bench.report import render, telemetry_line, to_json
from bench.run import DEFAULT, QUICK, collect, collect_telemetry

SINGLE = ("telemetry",)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="tiny iteration counts (smoke test)")
    parser.add_argument("--json", type=Path, help="also write the figures as JSON to this file")
    parser.add_argument("module", nargs="?", choices=SINGLE, help="run only this benchmark")
    args = parser.parse_args(argv)
    console = Console()
    budget = QUICK if args.quick else DEFAULT
    if args.module == "telemetry":
        with console.status("benchmarking the telemetry overhead…"):
            result = collect_telemetry(budget)
        line = telemetry_line(result)
        console.print(line, markup=False, highlight=False, soft_wrap=True)
        if args.json is not None:
            args.json.write_text(json.dumps({"telemetry": result.to_dict(), "summary": [line]}, indent=2))
        return 0
    with console.status("benchmarking (turns, then gateway decisions)…"):
        report = collect(budget, quick=args.quick)
    render(report, console)
    if args.json is not None:
        args.json.write_text(json.dumps(to_json(report), indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
