"""Smoke test: `python -m bench.analytics` builds its store and reports every figure (no timing asserted)."""

from __future__ import annotations

from bench.analytics import measure


def test_bench_analytics_reports_every_figure() -> None:
    figures = measure(per_day=24, days=2, repeat=1)
    assert set(figures) == {
        f"{name}_{part}_s"
        for name in ("24h_by_hour", "30d_by_day")
        for part in ("counts", "with_outcomes_first", "with_outcomes")
    }
    assert all(value > 0 for value in figures.values())
