"""Calibrate grounding.SUPPORT (copilot/agent/grounding.py) on cases built from the pack's own data
(copilot/agent/grounding_data.py): the even-numbered help articles and the demo store's orders choose the
threshold (best balanced accuracy); the odd-numbered articles and, when present, τ²'s db.json orders only
evaluate it.

    .venv/bin/python -m bench.calibrate_grounding [--tau2 ../shared/data/tau2-retail/db.json]
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path

from copilot.agent.grounding import SUPPORT, coverage
from copilot.agent.grounding_data import Case, passage_cases, read_articles, record_cases, split
from copilot.packs import load_pack
from copilot.settings import PROJECT_ROOT

THRESHOLDS = [round(0.05 * i, 2) for i in range(4, 17)]


def balanced_accuracy(cases: Sequence[Case], threshold: float) -> float:
    hits = {True: [0, 0], False: [0, 0]}
    for sentence, evidence, supported in cases:
        hits[supported][0] += (coverage(sentence, evidence) >= threshold) == supported
        hits[supported][1] += 1
    return sum(right / max(total, 1) for right, total in hits.values()) / 2


def demo_orders() -> list[dict[str, object]]:
    """The demo store's orders (the pack's generator, loaded by path like the pack itself)."""
    load_pack(PROJECT_ROOT / "tools" / "retail")
    orders: dict[str, dict[str, object]] = sys.modules["copilot_packs.retail.demo_data"].generate()["orders"]
    return list(orders.values())


def cases_for(part: int, orders: Sequence[dict[str, object]]) -> list[Case]:
    articles = read_articles(PROJECT_ROOT / "tools" / "retail" / "articles")
    chosen = split(articles, part)
    return [*passage_cases(chosen, chosen), *record_cases(orders)]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--tau2", type=Path, default=None, help="τ² db.json for held-out record cases")
    args = parser.parse_args()
    calibration = cases_for(0, demo_orders())
    held_orders = list(json.loads(args.tau2.read_text())["orders"].values()) if args.tau2 else []
    evaluation = cases_for(1, held_orders)
    print(f"calibration {len(calibration)} cases, evaluation {len(evaluation)} cases")
    for threshold in THRESHOLDS:
        mark = "  <- SUPPORT" if threshold == SUPPORT else ""
        print(f"threshold {threshold:.2f}: calibration {balanced_accuracy(calibration, threshold):.3f}  "
              f"evaluation {balanced_accuracy(evaluation, threshold):.3f}{mark}")  # fmt: skip
    best = max(THRESHOLDS, key=lambda t: balanced_accuracy(calibration, t))
    print(f"best on calibration: {best:.2f}")


if __name__ == "__main__":
    main()
