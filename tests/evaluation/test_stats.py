"""The bootstrap of tokensep_core.evaluation.stats on matrices whose answer is known by hand: the
paired difference of two systems (mean, wins, interval) and the pooled estimate over songs and
seeds."""

import math

import numpy as np
import pytest

from tokensep_core.evaluation.stats import estimate, paired_difference, pooled_estimate

NAN = math.nan


def test_paired_difference_mean_and_wins_by_hand() -> None:
    a = [[3.0, 1.0, 2.0], [5.0, 0.0, 2.0]]  # 2 seeds x 3 songs
    b = [[1.0, 2.0, 2.0], [1.0, 1.0, 0.0]]
    # a - b = [[2, -1, 0], [4, -1, 2]]: mean 6 / 6 = 1; a better in 3 of 6 (a tie is no win)
    higher = paired_difference(np.array(a), np.array(b), higher_is_better=True)
    assert (higher.value, higher.wins, higher.pairs) == (1.0, 3, 6)
    # lower is better: b - a = [[-2, 1, 0], [-4, 1, -2]]: mean -1, a better in 2 of 6
    lower = paired_difference(np.array(a), np.array(b), higher_is_better=False)
    assert (lower.value, lower.wins, lower.pairs) == (-1.0, 2, 6)


def test_a_pair_without_both_scores_is_left_out() -> None:
    difference = paired_difference(np.array([[1.0, NAN, 4.0]]), np.array([[0.0, 5.0, 1.0]]), True)
    assert (difference.value, difference.wins, difference.pairs) == (2.0, 2, 2)  # (1 + 3) / 2


def test_constant_differences_collapse_the_interval() -> None:
    b = np.array([[0.3, -2.0, 7.0, 1.5], [4.0, 0.0, -1.0, 2.0]])
    difference = paired_difference(b + 0.5, b, True)  # every resample's mean is 0.5
    assert (difference.low, difference.value, difference.high) == pytest.approx((0.5, 0.5, 0.5))
    assert difference.excludes_zero and difference.wins == difference.pairs == 8


def test_differences_all_above_zero_give_an_interval_above_zero() -> None:
    # every resample's mean lies within [1, 4], whatever it draws
    difference = paired_difference(np.array([[2.0, 3.0, 4.0, 5.0]]), np.array([[1.0, 1.0, 1.0, 1.0]]), True)
    assert 1.0 <= difference.low < difference.high <= 4.0 and difference.excludes_zero


def test_opposite_differences_give_an_interval_around_zero() -> None:
    # songs +1 and -1: a resample draws both as -1 with chance 1/4, so the 2.5 % point is -1
    difference = paired_difference(np.array([[1.0, 0.0]]), np.array([[0.0, 1.0]]), True)
    assert (difference.value, difference.low, difference.high) == (0.0, -1.0, 1.0)
    assert not difference.excludes_zero and (difference.wins, difference.pairs) == (1, 2)


def test_seeds_are_resampled_too() -> None:
    # every song alike within a seed: resampling songs alone would give [2, 2]; seeds give 1..3
    d = np.array([[1.0, 1.0, 1.0], [3.0, 3.0, 3.0]])
    difference = paired_difference(d, np.zeros_like(d), True)
    assert (difference.value, difference.low, difference.high) == (2.0, 1.0, 3.0)


def test_every_drawn_seed_takes_the_same_songs() -> None:
    # three identical seeds of songs +1, -1: with shared song indices a resample is all -1 with
    # chance 1/4 (low -1); with songs drawn apart per seed only with chance 1/64 (low -2/3)
    d = np.array([[1.0, -1.0]] * 3)
    assert paired_difference(d, np.zeros_like(d), True).low == -1.0


def test_pooled_estimate_aggregates_every_cell_and_reports_the_seed_spread() -> None:
    scores = [[1.0, 2.0, 3.0], [5.0, 6.0, NAN]]
    pooled = pooled_estimate("si_sdr", scores)
    assert pooled.value == pytest.approx(17 / 5) and (pooled.n, pooled.seeds) == (3, 2)
    assert (pooled.seed_min, pooled.seed_max) == (2.0, 5.5)  # the per-seed means
    assert pooled.low <= pooled.value <= pooled.high
    assert pooled_estimate("csdr", scores).value == 3.0  # cSDR: the median of the cells


def test_one_seed_is_the_bootstrap_over_songs() -> None:
    values = [0.5, NAN, 2.0, -1.0, 4.0]
    single, pooled = estimate("si_sdr", values), pooled_estimate("si_sdr", [values])
    assert single == pooled and (single.n, single.seeds) == (4, 1)
    assert math.isnan(estimate("si_sdr", [3.0]).low)  # an interval needs two songs
