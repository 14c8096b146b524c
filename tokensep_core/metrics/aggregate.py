"""How per-track scores become one number per metric and stem, as each metric's field reports it:
cSDR the median over tracks (SiSEC/MUSDB), uSDR and the others the mean over tracks (MDX)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterable

import numpy as np

TRACK_AGGREGATORS: dict[str, Callable[[np.ndarray], float]] = {
    "csdr": lambda values: float(np.nanmedian(values)),
}


def aggregate_tracks(metric: str, values: Iterable[float]) -> float:
    """Per-track scores of one metric and stem -> one score; NaN tracks (no valid window,
    no reference onset, …) are skipped; NaN when none is left."""
    array = np.asarray(list(values), dtype=np.float64)
    if array.size == 0 or np.isnan(array).all():
        return float("nan")
    reduce = TRACK_AGGREGATORS.get(metric, lambda v: float(np.nanmean(v)))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)
        return reduce(array)


def csdr_over_tracks(values: Iterable[float]) -> float:
    """cSDR of a test set: the median over tracks of each track's window-median SDR."""
    return aggregate_tracks("csdr", values)


def usdr_over_tracks(values: Iterable[float]) -> float:
    """uSDR of a test set: the mean over tracks of each track's whole-track SDR."""
    return aggregate_tracks("usdr", values)
