"""Report statistics from the durations the database hands over, in no order."""

from __future__ import annotations

import random
import statistics

import pytest
from hypothesis import given
from hypothesis import strategies as st

from warroom.reports.rules import Stat, stat


@pytest.mark.parametrize(
    ("values", "mean", "expected"),
    [
        ([], None, Stat(0, None, None, None)),
        ([5.0], 5.0, Stat(1, 5.0, 5.0, 5.0)),
        # Two values: the median halfway, p90 nine tenths of the way up.
        ([3.0, 1.0], 2.0, Stat(2, 2.0, 2.0, 2.8)),
        ([30.0, 0.0, 20.0, 10.0], 15.0, Stat(4, 15.0, 15.0, 27.0)),
        ([0.0, 0.0, 0.0], 0.0, Stat(3, 0.0, 0.0, 0.0)),
        # Ranks land exactly on a value: no interpolation.
        ([float(n) for n in range(11)], 5.0, Stat(11, 5.0, 5.0, 9.0)),
        # The mean is the database's, passed through as given.
        ([1.0, 2.0], 1.4999999999999998, Stat(2, 1.4999999999999998, 1.5, 1.9)),
    ],
)
def test_stat(values: list[float], mean: float | None, expected: Stat) -> None:
    found = stat(values, mean)
    assert found.count == expected.count
    assert found.mean == expected.mean
    assert found.median == pytest.approx(expected.median)
    assert found.p90 == pytest.approx(expected.p90)


def test_stat_leaves_its_input_alone() -> None:
    values = [3.0, 1.0, 2.0]
    stat(values, 2.0)
    assert values == [3.0, 1.0, 2.0]


durations = st.lists(st.floats(min_value=0, max_value=1e6, allow_nan=False), min_size=2)


@given(durations, st.randoms())
def test_stat_is_the_inclusive_quantile_whatever_the_order(
    values: list[float], rng: random.Random
) -> None:
    shuffled = list(values)
    rng.shuffle(shuffled)
    found = stat(shuffled, None)
    deciles = statistics.quantiles(values, n=10, method="inclusive")
    assert found == stat(sorted(values), None)
    assert found.median == pytest.approx(statistics.median(values))
    assert found.p90 == pytest.approx(deciles[8])
