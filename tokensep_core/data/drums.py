"""Synthesized drum kits: each piece is one sample per song with random timbre, placed at the hits."""

from __future__ import annotations

import numpy as np
from scipy import signal

from tokensep_core.data import dsp
from tokensep_core.data.score import DrumHit

# inharmonic square-wave partials of analog cymbals (ratios to a base frequency)
_METAL_RATIOS = np.array([1.0, 1.342, 1.2312, 1.6532, 1.9523, 2.1523])


def _time(seconds: float, sample_rate: int) -> np.ndarray:
    return np.arange(int(seconds * sample_rate)) / sample_rate


def _sweep_tone(t: np.ndarray, sample_rate: int, f_start: float, f_end: float, sweep: float) -> np.ndarray:
    freq = f_end + (f_start - f_end) * np.exp(-t / sweep)
    return np.sin(2 * np.pi * np.cumsum(freq) / sample_rate)


def _kick(rng: np.random.Generator, sr: int) -> np.ndarray:
    decay = rng.uniform(0.12, 0.4)
    t = _time(decay * 5, sr)
    body = _sweep_tone(t, sr, rng.uniform(110, 220), rng.uniform(40, 65), rng.uniform(0.01, 0.04)) * np.exp(-t / decay)
    click = dsp.band_noise(rng, len(t), sr, 1500, None) * np.exp(-t / rng.uniform(0.001, 0.004)) * rng.uniform(0.2, 0.6)
    drive = rng.uniform(1.0, 3.0)
    return np.tanh(drive * (body + click)) / np.tanh(drive)


def _snare(rng: np.random.Generator, sr: int) -> np.ndarray:
    noise_decay = rng.uniform(0.06, 0.22)
    t = _time(noise_decay * 6, sr)
    f = rng.uniform(160, 260)
    tone = (np.sin(2 * np.pi * f * t) + 0.5 * np.sin(2 * np.pi * 1.63 * f * t)) * np.exp(-t / rng.uniform(0.03, 0.08))
    noise = dsp.band_noise(rng, len(t), sr, rng.uniform(800, 2500), rng.uniform(6000, 12000)) * np.exp(-t / noise_decay)
    mix = rng.uniform(0.3, 0.7)
    return (1 - mix) * tone / 1.5 + mix * noise / (np.abs(noise).max() + 1e-9)


def _metal(rng: np.random.Generator, sr: int, t: np.ndarray, cutoff: float) -> np.ndarray:
    base = rng.uniform(300, 560)
    squares = np.sign(np.sin(2 * np.pi * base * _METAL_RATIOS[:, None] * t[None, :])).sum(axis=0)
    noise = rng.standard_normal(len(t)) * rng.uniform(1.0, 3.0)
    sos = signal.butter(4, min(cutoff, 0.45 * sr), "highpass", fs=sr, output="sos")
    return signal.sosfilt(sos, squares + noise)


def _hat(rng: np.random.Generator, sr: int, decay: float) -> np.ndarray:
    t = _time(decay * 6, sr)
    sound = _metal(rng, sr, t, rng.uniform(6000, 9000)) * np.exp(-t / decay)
    return sound / (np.abs(sound).max() + 1e-9)


def _tom(rng: np.random.Generator, sr: int, pitch: float) -> np.ndarray:
    decay = rng.uniform(0.15, 0.4)
    t = _time(decay * 5, sr)
    body = _sweep_tone(t, sr, pitch * rng.uniform(1.3, 1.8), pitch, rng.uniform(0.02, 0.06)) * np.exp(-t / decay)
    stick = dsp.band_noise(rng, len(t), sr, 1000, 6000) * np.exp(-t / 0.01) * 0.3
    return body + stick


def _crash(rng: np.random.Generator, sr: int) -> np.ndarray:
    decay = rng.uniform(0.5, 1.2)
    t = _time(decay * 4, sr)
    sound = _metal(rng, sr, t, rng.uniform(3000, 5000)) * np.exp(-t / decay)
    return sound / (np.abs(sound).max() + 1e-9)


def make_kit(rng: np.random.Generator, sample_rate: int) -> dict[str, tuple[np.ndarray, float]]:
    """One random kit: piece -> (sample ``[T]``, pan position)."""
    tom_base = rng.uniform(80, 130)
    spread = rng.uniform(0.2, 0.7)
    side = rng.choice([-1.0, 1.0])  # drummer's or audience's perspective
    return {
        "kick": (_kick(rng, sample_rate), 0.0),
        "snare": (_snare(rng, sample_rate) * 0.8, side * rng.uniform(0.0, 0.15)),
        "closed_hat": (_hat(rng, sample_rate, rng.uniform(0.02, 0.07)) * 0.5, side * spread * 0.8),
        "open_hat": (_hat(rng, sample_rate, rng.uniform(0.15, 0.4)) * 0.45, side * spread * 0.8),
        "tom_high": (_tom(rng, sample_rate, tom_base * 2.0), side * spread * 0.6),
        "tom_mid": (_tom(rng, sample_rate, tom_base * 1.5), 0.0),
        "tom_low": (_tom(rng, sample_rate, tom_base), -side * spread * 0.6),
        "crash": (_crash(rng, sample_rate) * 0.5, -side * spread),
    }


def render_drums(hits: list[DrumHit], kit: dict[str, tuple[np.ndarray, float]], n: int, sample_rate: int) -> np.ndarray:
    """Place every hit's sample (scaled by velocity) and pan each piece -> ``[2, n]``."""
    tracks = {piece: np.zeros(n) for piece in kit}
    for hit in hits:
        dsp.add_at(tracks[hit.piece], kit[hit.piece][0] * hit.velocity**1.5, int(round(hit.start * sample_rate)))
    out = np.zeros((2, n))
    for piece, track in tracks.items():
        out += dsp.pan(track, kit[piece][1])
    return out
