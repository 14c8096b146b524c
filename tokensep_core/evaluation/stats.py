"""Confidence intervals over songs and seeds: a percentile bootstrap of each metric's aggregate
(median for cSDR, mean otherwise) and of the paired difference between two systems, seeded so
reports are reproducible.

Scores come as a matrix ``[S seeds, N songs]`` (NaN: no score). The **two-level bootstrap**
draws, for each resample, S seeds with replacement and then N songs with replacement (the same
song indices for every drawn seed), and takes the statistic over the resampled cells, NaN cells
left out. With one seed it is the ordinary bootstrap over songs.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np

from tokensep_core.metrics.aggregate import aggregation

RESAMPLES = 2000
LEVEL = 0.95

NAN_STATISTICS: dict[str, Callable[..., np.ndarray]] = {"median": np.nanmedian, "mean": np.nanmean}
"""Each aggregation rule's numpy statistic, skipping NaN (takes ``axis``)."""


@dataclass(frozen=True)
class Estimate:
    """A metric's aggregate over songs (and seeds) with its 95 % interval (NaN when undefined),
    ``n`` songs, ``seeds`` seeds and the smallest and largest of the per-seed aggregates."""

    value: float
    low: float
    high: float
    n: int
    seeds: int = 1
    seed_min: float = float("nan")
    seed_max: float = float("nan")


@dataclass(frozen=True)
class Difference:
    """``a`` against ``b`` over paired cells (same song, same seed), oriented so that positive
    means ``a`` is better: the mean difference, its 95 % interval and in how many of the
    ``pairs`` ``a`` scored better (``wins``)."""

    value: float
    low: float
    high: float
    wins: int
    pairs: int

    @property
    def excludes_zero(self) -> bool:
        """Whether the interval lies entirely above or entirely below 0."""
        return self.low > 0 or self.high < 0


@contextmanager
def _quiet() -> Iterator[None]:
    """No warnings for NaN results: an all-NaN slice, or inf - inf."""
    with warnings.catch_warnings(), np.errstate(invalid="ignore"):
        warnings.simplefilter("ignore", RuntimeWarning)
        yield


def _defined(matrix: np.ndarray) -> np.ndarray:
    """``matrix`` [S, N] without the seeds and songs that have no score at all."""
    defined = ~np.isnan(matrix)
    return matrix[defined.any(axis=1)][:, defined.any(axis=0)]


def two_level_bootstrap(matrix: np.ndarray, statistic: Callable[..., np.ndarray], seed: int = 0) -> tuple[float, float]:
    """``matrix`` [S seeds, N songs] -> the 95 % percentile interval of ``statistic`` (NaN-skipping,
    takes ``axis``) over two-level resamples (module docstring)."""
    seeds, songs = matrix.shape
    rng = np.random.default_rng(seed)
    rows = rng.integers(0, seeds, size=(RESAMPLES, seeds)) if seeds > 1 else np.zeros((RESAMPLES, 1), dtype=np.int64)
    columns = rng.integers(0, songs, size=(RESAMPLES, songs))
    resampled = matrix[rows[:, :, None], columns[:, None, :]].reshape(RESAMPLES, seeds * songs)
    with _quiet():  # a resample whose cells are all NaN gives NaN
        values = statistic(resampled, axis=1)
    tail = 100 * (1 - LEVEL) / 2
    # "nearest" never interpolates, so infinite scores (a perfect oracle) stay meaningful
    low, high = np.nanpercentile(values, [tail, 100 - tail], method="nearest")
    return float(low), float(high)


def nanmean(values: Sequence[float]) -> float:
    """The mean of ``values`` without their NaNs; NaN when none is left."""
    finite = [v for v in values if not math.isnan(v)]
    return sum(finite) / len(finite) if finite else math.nan


def pooled_estimate(metric: str, matrix: Sequence[Sequence[float]] | np.ndarray, seed: int = 0) -> Estimate:
    """Scores [S seeds, N songs] -> the metric's aggregate over every cell, its two-level bootstrap
    interval (needs 2 songs) and the spread of the per-seed aggregates."""
    data = _defined(np.atleast_2d(np.asarray(matrix, dtype=np.float64)))
    if data.size == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0, 0)
    statistic = NAN_STATISTICS[aggregation(metric)]
    with _quiet():
        value = float(statistic(data))
        per_seed = statistic(data, axis=1)
    seeds, songs = data.shape
    low, high = two_level_bootstrap(data, statistic, seed) if songs >= 2 else (float("nan"), float("nan"))
    return Estimate(value, low, high, songs, seeds, float(np.min(per_seed)), float(np.max(per_seed)))


def estimate(metric: str, values: Sequence[float], seed: int = 0) -> Estimate:
    """Per-song values (NaN songs left out) -> aggregate and bootstrap interval (needs 2 songs)."""
    return pooled_estimate(metric, [[math.nan if v is None else v for v in values]], seed)


def paired_difference(a: np.ndarray, b: np.ndarray, higher_is_better: bool, seed: int = 0) -> Difference:
    """Scores of two systems on the same cells [S seeds, N songs] -> :class:`Difference`: the mean
    of ``a - b`` (``b - a`` when lower is better) over the cells where both are defined, its
    two-level bootstrap interval (needs 2 songs) and the wins."""
    with _quiet():  # inf - inf: no defined difference
        differences = (1.0 if higher_is_better else -1.0) * (np.asarray(a, dtype=np.float64) - np.asarray(b, dtype=np.float64))
        data = _defined(differences)
        if data.size == 0:
            return Difference(float("nan"), float("nan"), float("nan"), 0, 0)
        value = float(np.nanmean(data))
    low, high = two_level_bootstrap(data, np.nanmean, seed) if data.shape[1] >= 2 else (float("nan"), float("nan"))
    return Difference(value, low, high, int(np.sum(data > 0)), int(np.sum(~np.isnan(data))))
