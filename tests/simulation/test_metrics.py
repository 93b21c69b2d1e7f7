"""pass^k (τ-bench's unbiased estimator) and the percentile used for latencies."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from copilot.simulation.metrics import Prices, Usage, pass_hat_k, pass_k, percentile

outcomes = st.lists(st.booleans(), min_size=1, max_size=7)


@given(outcomes, st.data())
def test_pass_hat_k_is_the_share_of_k_subsets_that_all_pass(results: list[bool], data: st.DataObject) -> None:
    k = data.draw(st.integers(1, len(results)))
    subsets = list(itertools.combinations(results, k))
    expected = sum(all(s) for s in subsets) / len(subsets)
    assert pass_hat_k(len(results), sum(results), k) == pytest.approx(expected)


@given(outcomes)
def test_pass_k_falls_with_k_and_starts_at_the_pass_rate(results: list[bool]) -> None:
    values = pass_k({"t": results})
    assert values[1] == pytest.approx(sum(results) / len(results))
    assert all(values[k] >= values[k + 1] for k in range(1, len(results)))
    assert values[len(results)] == (1.0 if all(results) else 0.0)


def test_pass_k_is_the_mean_over_tasks() -> None:
    values = pass_k({"a": [True, True, True, True], "b": [True, True, False, False]})
    assert values == pytest.approx({1: 0.75, 2: (1 + 1 / 6) / 2, 3: 0.5, 4: 0.5})


def test_pass_k_needs_equal_trials_and_a_valid_k() -> None:
    with pytest.raises(ValueError, match="same number of trials"):
        pass_k({"a": [True], "b": [True, False]})
    with pytest.raises(ValueError, match="1 <= k <= trials"):
        pass_hat_k(2, 1, 3)


def test_percentile_nearest_rank() -> None:
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 95), percentile(values, 100)) == (50.0, 95.0, 100.0)
    assert percentile([7.0], 95) == 7.0 and percentile([], 50) == 0.0


def test_cost_from_usage() -> None:
    usage = Usage(2_000_000, 500_000) + Usage(0, 500_000)
    assert usage.total == 3_000_000
    assert Prices(input=0.15, output=0.6).cost(usage) == pytest.approx(0.9)
