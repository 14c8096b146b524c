"""How per-track scores become one number per metric and stem, the one rule every report uses
(evaluations, codec evaluations, benchmark intervals): cSDR the median over tracks (SiSEC/MUSDB,
each track already the median over its windows), uSDR and every other metric the mean over
tracks (MDX)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable
from typing import Literal

import numpy as np

Aggregation = Literal["median", "mean"]

AGGREGATION: dict[str, Aggregation] = {"csdr": "median"}
"""Metrics (by registry name) not aggregated by the mean."""

STATISTICS: dict[Aggregation, Callable[..., np.ndarray]] = {"median": np.median, "mean": np.mean}
"""The numpy statistic of each rule (takes ``axis``)."""


def aggregation(metric: str) -> Aggregation:
    """The rule that aggregates ``metric`` over tracks."""
    return AGGREGATION.get(metric, "mean")


def aggregate_tracks(metric: str, values: Iterable[float]) -> float:
    """Per-track scores of one metric and stem -> one score; NaN tracks (no valid window,
    no reference onset, …) are skipped; NaN when none is left."""
    array = np.asarray(list(values), dtype=np.float64)
    array = array[~np.isnan(array)]
    if array.size == 0:
        return float("nan")
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return float(STATISTICS[aggregation(metric)](array))


def csdr_over_tracks(values: Iterable[float]) -> float:
    """cSDR of a test set: the median over tracks of each track's window-median SDR."""
    return aggregate_tracks("csdr", values)


def usdr_over_tracks(values: Iterable[float]) -> float:
    """uSDR of a test set: the mean over tracks of each track's whole-track SDR."""
    return aggregate_tracks("usdr", values)
