"""Confidence intervals over songs: a percentile bootstrap of each metric's aggregate
(median for cSDR, mean otherwise), seeded so reports are reproducible."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from tokensep_core.metrics.aggregate import STATISTICS, aggregation

RESAMPLES = 2000
LEVEL = 0.95


@dataclass(frozen=True)
class Estimate:
    """A metric's aggregate over songs with its 95 % interval (NaN when undefined) and ``n`` songs."""

    value: float
    low: float
    high: float
    n: int


def estimate(metric: str, values: Sequence[float], seed: int = 0) -> Estimate:
    """Per-song values (NaN songs left out) -> aggregate and bootstrap interval (needs 2 songs)."""
    data = np.asarray([v for v in values if v is not None and not np.isnan(v)], dtype=np.float64)
    if data.size == 0:
        return Estimate(float("nan"), float("nan"), float("nan"), 0)
    statistic = STATISTICS[aggregation(metric)]
    value = float(statistic(data))
    if data.size < 2:
        return Estimate(value, float("nan"), float("nan"), 1)
    rng = np.random.default_rng(seed)
    resampled = statistic(data[rng.integers(0, data.size, size=(RESAMPLES, data.size))], axis=1)
    tail = 100 * (1 - LEVEL) / 2
    # "nearest" never interpolates, so infinite scores (a perfect oracle) stay meaningful
    low, high = np.percentile(resampled, [tail, 100 - tail], method="nearest")
    return Estimate(value, float(low), float(high), int(data.size))
