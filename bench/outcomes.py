"""`python -m bench.outcomes [--per-day N] [--days D]`: how long `copilot.telemetry.outcomes.outcomes` takes for
D days of N conversations a day (bench.analytics's synthetic SQLite store), without intents (what the analytics
series uses) and with the pack's intent classifier (the outcomes API and CLI)."""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import time
from datetime import timedelta
from pathlib import Path

from bench.analytics import END, build
from copilot.packs import load_pack
from copilot.settings import Settings
from copilot.telemetry.outcomes import intent_labeller, outcomes


def measure(per_day: int, days: int) -> dict[str, float]:
    started = time.perf_counter()
    labeller = intent_labeller(load_pack(Settings().pack_path).intents)
    out = {"train_classifier_s": time.perf_counter() - started}
    with tempfile.TemporaryDirectory() as tmp:
        engine = build(Path(tmp) / "copilot.db", per_day, days)
        for name, chosen in (("without_intents_s", None), ("with_intents_s", labeller)):
            started = time.perf_counter()
            report = outcomes(
                engine, since=END - timedelta(days=days), until=END, tenant="demo", labeller=chosen
            )
            out[name] = time.perf_counter() - started
        out["conversations"] = report.total.conversations
        engine.dispose()
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.outcomes", description=__doc__)
    parser.add_argument("--per-day", type=int, default=200)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args(argv)
    print(
        json.dumps({"per_day": args.per_day, "days": args.days, **measure(args.per_day, args.days)}, indent=2)
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
