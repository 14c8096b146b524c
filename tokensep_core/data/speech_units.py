"""Recorded speech cut into voiced units (syllable- to phrase-sized) from the clip's own voicing
(Praat's pitch tracker, through parselmouth) and intensity.

A unit is a run of voiced frames loud enough to be speech (within :data:`FLOOR_DB` of the clip's
loudest frame), gaps up to :data:`BRIDGE` bridged; runs longer than :data:`MAX_UNIT` are split at
their deepest intensity dip (syllable boundaries), runs shorter than :data:`MIN_UNIT` dropped. A
unit starts up to :data:`LEAD_IN` before its voicing, so a consonant before the vowel comes along.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import parselmouth

HOP = 0.01  # s, analysis frame step
PITCH_FLOOR, PITCH_CEILING = 75.0, 600.0  # Hz, speech range for the tracker
FLOOR_DB = 35.0
BRIDGE = 0.04
MIN_UNIT, MAX_UNIT = 0.08, 0.5
LEAD_IN = 0.04
MIN_DIP_DB = 2.0


@dataclass(frozen=True)
class Unit:
    """A voiced stretch of a clip: start, voicing onset and end (s) and its median pitch (Hz)."""

    start: float
    voiced: float  # the lead-in (an onset consonant) is ``start`` to ``voiced``
    end: float
    f0: float


def frame_tracks(audio: np.ndarray, rate: int) -> tuple[np.ndarray, np.ndarray]:
    """Mono ``[T]`` -> (f0 Hz per :data:`HOP` frame, 0 where unvoiced; frame level in dB), both ``[F]``."""
    sound = parselmouth.Sound(audio, sampling_frequency=rate)
    pitch = sound.to_pitch(time_step=HOP, pitch_floor=PITCH_FLOOR, pitch_ceiling=PITCH_CEILING)
    frames = int(len(audio) / rate / HOP)
    f0 = np.zeros(frames)
    times = pitch.xs()
    index = np.round((times - HOP / 2) / HOP).astype(int)
    keep = (index >= 0) & (index < frames)
    f0[index[keep]] = np.nan_to_num(pitch.selected_array["frequency"][keep])
    hop = int(round(HOP * rate))
    power = np.array([np.mean(audio[k * hop : (k + 1) * hop] ** 2) for k in range(frames)]) if frames else np.zeros(0)
    return f0, 10 * np.log10(power + 1e-12)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    """``[a, b)`` frame ranges where ``mask`` is true."""
    edges = np.flatnonzero(np.diff(np.concatenate([[0], mask.astype(np.int8), [0]])))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def _split(a: int, b: int, level: np.ndarray) -> list[tuple[int, int]]:
    """Split ``[a, b)`` at its deepest intensity dip until no part is longer than :data:`MAX_UNIT`."""
    longest, shortest = int(MAX_UNIT / HOP), int(MIN_UNIT / HOP)
    if b - a <= longest:
        return [(a, b)]
    smooth = np.convolve(level[a:b], np.ones(5) / 5, mode="same")
    inner = np.arange(shortest, b - a - shortest)
    if len(inner) == 0:
        return [(a, b)]
    cut = int(inner[np.argmin(smooth[inner])])
    if min(smooth[:cut].max(), smooth[cut:].max()) - smooth[cut] < MIN_DIP_DB:
        return [(a, b)]  # no syllable boundary: one phrase-sized unit
    return _split(a, a + cut, level) + _split(a + cut, b, level)


def voiced_units(audio: np.ndarray, rate: int) -> list[Unit]:
    """The voiced units of a mono clip ``[T]`` at ``rate`` (see the module doc), in time order."""
    if len(audio) < rate * MIN_UNIT:
        return []
    f0, level = frame_tracks(audio, rate)
    if not len(f0):
        return []
    voiced = (f0 > 0) & (level > level.max() - FLOOR_DB)
    bridge = int(BRIDGE / HOP)
    for a, b in _runs(~voiced):
        if 0 < a and b < len(voiced) and b - a <= bridge:
            voiced[a:b] = True
    units: list[Unit] = []
    previous_end = 0.0
    for a, b in _runs(voiced):
        for s, e in _split(a, b, level):
            if (e - s) * HOP < MIN_UNIT:
                continue
            pitched = f0[s:e][f0[s:e] > 0]
            start = max(s * HOP - LEAD_IN, previous_end) if s == a else s * HOP
            units.append(Unit(start, s * HOP, e * HOP, float(np.median(pitched)) if len(pitched) else 0.0))
            previous_end = e * HOP
    return [unit for unit in units if unit.f0 > 0]
