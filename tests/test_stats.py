"""Intervals checked against closed forms and scipy's own references."""

import math

import numpy as np
import pytest
from scipy import stats

from lrstudy.sweep.stats import bootstrap_interval, paired_difference, summarize, t_interval


def test_t_interval_matches_the_textbook_formula():
    x = [0.91, 0.93, 0.92, 0.95, 0.90]
    low, high = t_interval(x)
    mean, sem = np.mean(x), np.std(x, ddof=1) / math.sqrt(5)
    half = 2.7764451051977987 * sem  # t_{0.975, 4}
    assert (low, high) == pytest.approx((mean - half, mean + half), rel=1e-12)
    assert (low, high) == pytest.approx(stats.t.interval(0.95, 4, loc=mean, scale=sem))


def test_bootstrap_interval_covers_the_mean_and_is_reproducible():
    rng = np.random.default_rng(1)
    x = rng.normal(3.0, 1.0, 40)
    low, high = bootstrap_interval(x)
    assert low < x.mean() < high
    assert (low, high) == bootstrap_interval(x)
    t_low, t_high = t_interval(x)
    assert abs((high - low) - (t_high - t_low)) < 0.3 * (t_high - t_low)


def test_too_few_values_give_no_interval():
    one = summarize([0.5])
    assert one.n == 1 and one.mean == 0.5 and math.isnan(one.t_low) and math.isnan(one.std)
    assert summarize([]).n == 0


def test_non_finite_values_are_not_averaged_in():
    s = summarize([1.0, 2.0, math.inf, math.nan, None])
    assert s.n == 2 and s.mean == 1.5


def test_constant_values_have_a_zero_width_bootstrap():
    assert bootstrap_interval([2.0, 2.0, 2.0]) == (2.0, 2.0)


def test_paired_difference_uses_common_seeds_only():
    a = {0: 0.90, 1: 0.92, 2: 0.91, 3: 0.5}
    b = {0: 0.89, 1: 0.90, 2: 0.91}
    d = paired_difference(a, b)
    assert d.n == 3 and d.mean == pytest.approx((0.01 + 0.02 + 0.0) / 3)
    assert d.t_low < d.mean < d.t_high
