"""`copilot eval oos FILE` through the real graph: rate of irrelevant answers and account tools called."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from typer.testing import CliRunner

from copilot.cli.main import app
from copilot.settings import PROJECT_ROOT

LAST = re.compile(r"oos irrelevant (\d\.\d{3}) on (\d+) utterances, tools (\d+), account tools (\d+)")


def run(path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[str, re.Match[str]]:
    monkeypatch.delenv("COPILOT_MODEL", raising=False)
    result = CliRunner().invoke(app, ["eval", "oos", str(path)])
    assert result.exit_code == 0, result.output
    match = LAST.fullmatch(result.stdout.strip().splitlines()[-1])
    assert match is not None, result.stdout
    return result.stdout, match


def test_text_and_jsonl_utterances(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "oos.txt"
    path.write_text(
        '# comment\ntell me a joke\n\n{"text": "what is photosynthesis"}\nHow long do refunds take?\n'
    )
    out, match = run(path, monkeypatch)
    assert match.group(2) == "3"
    # "How long do refunds take?" is a support request: its cited answer counts as irrelevant here, which shows
    # the rate counts what it should.
    assert match.group(1) == "0.333" and "How long do refunds take?" in out
    assert match.group(4) == "0"


def test_own_calibration_set_stays_within_two_percent(monkeypatch: pytest.MonkeyPatch) -> None:
    _, match = run(PROJECT_ROOT / "evals" / "oos" / "oos_calibration.txt", monkeypatch)
    assert float(match.group(1)) <= 0.02 and match.group(2) == "101"
    assert match.group(4) == "0"


def test_a_missing_or_empty_file_is_a_clear_error(tmp_path: Path) -> None:
    missing = CliRunner().invoke(app, ["eval", "oos", str(tmp_path / "nope.txt")])
    assert missing.exit_code == 2 and "does not exist" in missing.stderr
    (tmp_path / "empty.txt").write_text("# nothing\n")
    empty = CliRunner().invoke(app, ["eval", "oos", str(tmp_path / "empty.txt")])
    assert empty.exit_code == 2 and "has no utterances" in empty.stderr
