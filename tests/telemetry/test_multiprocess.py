"""With PROMETHEUS_MULTIPROC_DIR, /metrics in any worker process reports the sum over every process."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families

from copilot.settings import PROJECT_ROOT

COUNT = """
from copilot.telemetry import Telemetry, using
from copilot.telemetry import metrics
with using(Telemetry()):
    metrics.count_handoff("user_request")
    metrics.count_handoff("a reason the customer typed")
"""
RENDER = "import sys; from copilot.telemetry.metrics import render; sys.stdout.write(render()[0].decode())"


def _python(code: str, env: dict[str, str]) -> str:
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=PROJECT_ROOT, env=env, capture_output=True, text=True, timeout=60,
        check=True,
    )  # fmt: skip
    return done.stdout


def test_counts_of_two_processes_are_summed(tmp_path: Path) -> None:
    env = {**os.environ, "PROMETHEUS_MULTIPROC_DIR": str(tmp_path)}
    _python(COUNT, env)
    _python(COUNT, env)
    text = _python(RENDER, env)
    handoffs = {
        sample.labels["reason"]: sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "copilot_handoffs_total"
    }
    assert handoffs == {"user_request": 2.0, "other": 2.0}  # free-text reasons never become labels
