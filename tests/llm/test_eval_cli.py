from __future__ import annotations

import re
from pathlib import Path

from typer.testing import CliRunner

from copilot.cli.main import app

ROWS = [("cancel my order number {}", "cancel_order"), ("where is my parcel {} now", "track_order")]


def test_eval_intents_cross_validation_last_line(tmp_path: Path) -> None:
    csv_file = tmp_path / "tiny.csv"
    lines = ["instruction,intent"] + [t.format(i) + "," + label for i in range(5) for t, label in ROWS]
    csv_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", "intents", str(csv_file), "--train", str(csv_file)])
    assert result.exit_code == 0, result.output
    assert result.stdout.strip().splitlines()[-1] == "accuracy 1.000 on 10 utterances"


def test_eval_intents_with_pack_examples(tmp_path: Path) -> None:
    csv_file = tmp_path / "tiny.csv"
    csv_file.write_text("instruction,intent\nwhere is my order W1234567,track_order\n", encoding="utf-8")
    result = CliRunner().invoke(app, ["eval", "intents", str(csv_file)])
    assert result.exit_code == 0, result.output
    assert re.fullmatch(r"accuracy \d\.\d{3} on 1 utterances", result.stdout.strip().splitlines()[-1])


def test_eval_intents_bad_file_is_a_clear_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(app, ["eval", "intents", str(tmp_path / "missing.csv")])
    assert result.exit_code == 2
