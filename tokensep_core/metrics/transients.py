"""Drum transient metrics: onset F-measure and attack-sharpness (rise-time) error.

Both work on the mono mixdown. Onsets are detected with librosa's spectral-flux onset detector
(``librosa.onset.onset_detect``, backtracked to the preceding energy minimum so they mark where
the attack starts) and matched with ``mir_eval`` within a tolerance window (50 ms by default).
A reference without any onset leaves both metrics undefined (NaN), like a silent cSDR window.
"""

from __future__ import annotations

import numpy as np
from pydantic import Field
from scipy.ndimage import uniform_filter1d
from scipy.signal import hilbert
from torch import Tensor

from tokensep_core.config import ComponentConfig
from tokensep_core.interfaces import Metric
from tokensep_core.metrics.common import check_pair, to_mono, to_numpy


def detect_onsets(wav: np.ndarray, sample_rate: int, hop_length: int = 256) -> np.ndarray:
    """Mono ``[T]`` -> onset times in seconds (sorted)."""
    import librosa  # imported on use: it takes seconds, and registering the metric must not

    if not np.any(wav):
        return np.zeros(0)
    return librosa.onset.onset_detect(y=wav.astype(np.float32), sr=sample_rate, hop_length=hop_length, backtrack=True, units="time")


def envelope(wav: np.ndarray, sample_rate: int, smoothing_ms: float) -> np.ndarray:
    """Mono ``[T]`` -> amplitude envelope ``[T]``: Hilbert magnitude, moving average of ``smoothing_ms``."""
    width = max(1, round(smoothing_ms * 1e-3 * sample_rate))
    return uniform_filter1d(np.abs(hilbert(wav)), width)


def rise_time(env: np.ndarray, sample_rate: int, onset: float, pre_ms: float, post_ms: float) -> float:
    """10 % -> 90 % rise time (ms) of the envelope's peak in ``[onset - pre, onset + post]``,
    both levels relative to that peak and crossed on the way up to it."""
    start = max(0, round((onset - pre_ms * 1e-3) * sample_rate))
    stop = min(len(env), round((onset + post_ms * 1e-3) * sample_rate))
    segment = env[start:stop]
    if segment.size == 0 or segment.max() <= 0:
        return float("nan")
    peak = int(np.argmax(segment))
    rising = segment[: peak + 1]
    # last sample below each level before the peak: where the final rise through it begins
    below_10 = np.flatnonzero(rising < 0.1 * rising[-1])
    below_90 = np.flatnonzero(rising < 0.9 * rising[-1])
    t10 = below_10[-1] + 1 if below_10.size else 0
    t90 = below_90[-1] + 1 if below_90.size else 0
    return 1e3 * (t90 - t10) / sample_rate


class OnsetConfig(ComponentConfig):
    window_seconds: float = Field(0.05, gt=0, description="onset matching tolerance (mir_eval's default)")
    hop_length: int = Field(256, ge=16, description="onset detector hop, in samples")


class OnsetF(Metric):
    """Onset F-measure of the estimate's onsets against the reference's (mir_eval, ±window)."""

    Config = OnsetConfig
    name = "onset_f"
    higher_is_better = True

    def __init__(self, config: OnsetConfig) -> None:
        self.config = config

    def __call__(self, reference: Tensor, estimate: Tensor, sample_rate: int) -> float:
        """reference, estimate ``[C, T]`` -> F in [0, 1] (NaN if the reference has no onset)."""
        import mir_eval

        ref, est = check_pair(self.name, reference, estimate)
        ref_onsets = detect_onsets(to_numpy(to_mono(ref)), sample_rate, self.config.hop_length)
        if ref_onsets.size == 0:
            return float("nan")
        est_onsets = detect_onsets(to_numpy(to_mono(est)), sample_rate, self.config.hop_length)
        if est_onsets.size == 0:
            return 0.0
        f_measure, _, _ = mir_eval.onset.f_measure(ref_onsets, est_onsets, window=self.config.window_seconds)
        return float(f_measure)


class AttackErrorConfig(OnsetConfig):
    smoothing_ms: float = Field(1.0, gt=0, description="moving-average length applied to the Hilbert envelope")
    pre_ms: float = Field(10.0, ge=0, description="analysis starts this long before each detected onset")
    post_ms: float = Field(60.0, gt=0, description="and ends this long after it; the attack peak is searched inside")


class AttackError(Metric):
    """Attack-sharpness error (ms): mean rise-time difference over matched drum onsets.

    |rise time(reference) - rise time(estimate)| for each onset pair matched within the window,
    each rise time measured around that signal's own onset; the mean over pairs."""

    Config = AttackErrorConfig
    name = "attack_error"
    higher_is_better = False

    def __init__(self, config: AttackErrorConfig) -> None:
        self.config = config

    def __call__(self, reference: Tensor, estimate: Tensor, sample_rate: int) -> float:
        """reference, estimate ``[C, T]`` -> ms (NaN when no onset pair matches)."""
        import mir_eval

        ref, est = check_pair(self.name, reference, estimate)
        ref, est = to_numpy(to_mono(ref)), to_numpy(to_mono(est))
        ref_onsets = detect_onsets(ref, sample_rate, self.config.hop_length)
        est_onsets = detect_onsets(est, sample_rate, self.config.hop_length)
        matches = mir_eval.util.match_events(ref_onsets, est_onsets, self.config.window_seconds)
        if not matches:
            return float("nan")
        c = self.config
        ref_env, est_env = envelope(ref, sample_rate, c.smoothing_ms), envelope(est, sample_rate, c.smoothing_ms)
        errors = [
            abs(
                rise_time(ref_env, sample_rate, ref_onsets[i], c.pre_ms, c.post_ms)
                - rise_time(est_env, sample_rate, est_onsets[j], c.pre_ms, c.post_ms)
            )
            for i, j in matches
        ]
        return float(np.nanmean(errors)) if not np.isnan(errors).all() else float("nan")
