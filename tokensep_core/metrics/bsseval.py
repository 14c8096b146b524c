"""BSSEval v4 (museval): framewise SDR/SIR/ISR/SAR, median over windows ("cSDR" in MDX/SiSEC).

Two entry points:
- :func:`bss_eval_sources` evaluates all stems of a song jointly, exactly as museval does for a
  track (``museval.evaluate``, mode v4): the SIR/ISR/SAR projections use every reference, and
  a window is NaN for every stem as soon as any stem's reference or estimate is silent in it.
  Its numbers are museval's track-level numbers (median over windows per stem).
- :class:`CSDR`, the per-stem :class:`Metric`, evaluates one stem alone. In BSSEval v4 (image
  version) the SDR of a window is ``|s|² / |ŝ - s|²`` whatever the other references are, so
  its value equals the joint SDR except where a window is NaN only because another stem is
  silent there; SIR/ISR/SAR need the joint function.
NaN windows are ignored by the median; a stem with no valid window scores NaN.
"""

from __future__ import annotations

import warnings
from collections.abc import Mapping

import numpy as np
from pydantic import Field
from torch import Tensor

from tokensep_core.config import ComponentConfig
from tokensep_core.interfaces import Metric
from tokensep_core.metrics.common import MetricError, check_pair, to_numpy

BSS_METRICS: tuple[str, ...] = ("SDR", "SIR", "ISR", "SAR")


def _framewise(references: np.ndarray, estimates: np.ndarray, window: int, hop: int) -> dict[str, np.ndarray]:
    """references, estimates ``[N, T, C]`` -> ``{metric: [N, windows]}`` (museval v4)."""
    try:
        import museval
    except RuntimeError as err:  # museval imports stempeg, which insists on ffmpeg
        raise MetricError(f"museval cannot be imported ({err}); install ffmpeg (scripts/setup.sh)") from None
    sdr, isr, sir, sar = museval.evaluate(references, estimates, win=window, hop=hop, mode="v4", padding=False)
    return {"SDR": sdr, "SIR": sir, "ISR": isr, "SAR": sar}


def _window_median(values: np.ndarray) -> np.ndarray:
    """``[N, windows]`` -> ``[N]`` medians ignoring NaN windows (NaN when all are NaN)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-NaN rows are a legitimate NaN
        return np.nanmedian(values, axis=1)


def bss_eval_sources(
    references: Mapping[str, Tensor],
    estimates: Mapping[str, Tensor],
    sample_rate: int,
    window_seconds: float = 1.0,
    hop_seconds: float = 1.0,
) -> dict[str, dict[str, float]]:
    """Joint BSSEval v4 of all stems: ``{stem: [C, T]}`` twice -> ``{stem: {SDR, SIR, ISR, SAR}}``,
    each the median over windows (dB)."""
    stems = list(references)
    if set(estimates) != set(stems):
        raise MetricError(f"bss_eval_sources: reference stems {sorted(stems)} and estimate stems {sorted(estimates)} differ")
    pairs = [check_pair(f"bss_eval_sources[{stem}]", references[stem], estimates[stem]) for stem in stems]
    shapes = {tuple(ref.shape) for ref, _ in pairs}
    if len(shapes) > 1:
        raise MetricError(f"bss_eval_sources: stems have different shapes {sorted(shapes)}")
    refs = np.stack([to_numpy(ref).T for ref, _ in pairs])
    ests = np.stack([to_numpy(est).T for _, est in pairs])
    if not (refs.any(axis=(1, 2)).all() and ests.any(axis=(1, 2)).all()):
        # museval refuses an all-silent signal; by its window rule every window would be NaN
        return {stem: dict.fromkeys(BSS_METRICS, float("nan")) for stem in stems}
    frames = _framewise(refs, ests, round(window_seconds * sample_rate), round(hop_seconds * sample_rate))
    medians = {metric: _window_median(values) for metric, values in frames.items()}
    return {stem: {metric: float(medians[metric][i]) for metric in BSS_METRICS} for i, stem in enumerate(stems)}


class CSDRConfig(ComponentConfig):
    window_seconds: float = Field(1.0, gt=0)
    hop_seconds: float = Field(1.0, gt=0)


class CSDR(Metric):
    """Chunk-level SDR of one stem (BSSEval v4, 1 s windows, median over windows), in dB."""

    Config = CSDRConfig
    name = "csdr"
    higher_is_better = True

    def __init__(self, config: CSDRConfig) -> None:
        self.config = config

    def __call__(self, reference: Tensor, estimate: Tensor, sample_rate: int) -> float:
        """reference, estimate ``[C, T]`` -> dB (NaN if every window is silent)."""
        scores = bss_eval_sources({"stem": reference}, {"stem": estimate}, sample_rate, self.config.window_seconds, self.config.hop_seconds)
        return scores["stem"]["SDR"]
