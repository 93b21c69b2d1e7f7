"""`copilot policy ...` on files and on a database, and the policy test suites (the CI run of them)."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from copilot.cli.main import app
from copilot.gateway.casbin_authorizer import CasbinAuthorizer
from copilot.policy.testing import failures, load_suites, run_cases

from .conftest import POLICIES

SEED = POLICIES / "policy.csv"


def test_the_policy_suites_pass_on_the_seed_policy() -> None:
    cases = load_suites(POLICIES / "tests")
    results = run_cases(CasbinAuthorizer.from_dir(POLICIES), cases)
    assert len(results) >= 60 and {c.file for c in cases} >= {"decisions.yaml", "invariants.yaml"}
    assert failures(results) == []


@pytest.fixture
def cli(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> CliRunner:
    monkeypatch.setenv("COPILOT_DATA_DIR", str(tmp_path / "data"))
    return CliRunner()


def _leaky(tmp_path: Path) -> Path:
    text = SEED.read_text().replace(
        "p, customer, *, find_user_id_*, call, deny", "p, customer, *, find_user_id_*, call, allow"
    )
    path = tmp_path / "leaky.csv"
    path.write_text(text)
    return path


def test_lint_test_and_diff_work_on_files(cli: CliRunner, tmp_path: Path) -> None:
    ok = cli.invoke(app, ["policy", "lint", str(SEED)])
    assert ok.exit_code == 0 and "0 errors, 2 warnings" in ok.output
    broken = tmp_path / "broken.csv"
    broken.write_text("p, customer, *, calculate, call\ng, agent, agent, *\n")
    bad = cli.invoke(app, ["policy", "lint", str(broken)])
    assert bad.exit_code == 1 and "arity" in bad.output
    passed = cli.invoke(app, ["policy", "test"])
    assert passed.exit_code == 0 and "PASS: " in passed.output and "FAIL" not in passed.output
    failed = cli.invoke(app, ["policy", "test", "--file", str(_leaky(tmp_path))])
    assert failed.exit_code == 1 and "FAIL: customer@demo find_user_id_by_email call" in failed.output
    diff = cli.invoke(app, ["policy", "diff", str(SEED), str(_leaky(tmp_path))])
    assert diff.exit_code == 0 and "customer find_user_id_by_email call: deny → allow" in diff.output


def test_history_simulate_and_rollback_use_the_database(cli: CliRunner, tmp_path: Path) -> None:
    history = cli.invoke(app, ["policy", "history"])
    assert (
        history.exit_code == 0
        and "system:seed" in history.output
        and "1 versions, active 1" in history.output
    )
    sim = cli.invoke(
        app, ["policy", "simulate", "calculate", "--as", "guest", "--args", '{"expression": "1+1"}']
    )
    assert sim.exit_code == 0 and '"decision": "allow"' in sim.output
    rolled = cli.invoke(app, ["policy", "rollback", "1"])
    assert rolled.exit_code == 0 and "version 2 is active" in rolled.output
    assert "2 versions, active 2" in cli.invoke(app, ["policy", "history"]).output
    assert cli.invoke(app, ["policy", "test", "--version", "2"]).exit_code == 0
