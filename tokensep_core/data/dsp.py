"""Small vectorised synthesis helpers (numpy/scipy) for the procedural renderer.

Signals are float64 numpy arrays: mono ``[T]`` or stereo ``[2, T]``.
"""

from __future__ import annotations

import numpy as np
from scipy import fft as sp_fft
from scipy import signal

TABLE_SIZE = 2048


def midi_to_hz(pitch: float | np.ndarray) -> float | np.ndarray:
    return 440.0 * 2.0 ** ((np.asarray(pitch) - 69.0) / 12.0)


def envelope(n: int, sample_rate: int, attack: float, decay: float, sustain: float, release: float, gate: float) -> np.ndarray:
    """ADSR ``[n]``: linear attack, exponential decay to ``sustain``, exponential release after
    ``gate`` seconds."""
    t = np.arange(n) / sample_rate

    def held(x: np.ndarray) -> np.ndarray:
        rise = np.minimum(x / max(attack, 1e-4), 1.0)
        fall = sustain + (1.0 - sustain) * np.exp(-np.maximum(x - attack, 0.0) / decay)
        return rise * fall

    at_gate = held(np.asarray(gate))
    return np.where(t < gate, held(t), at_gate * np.exp(-(t - gate) / release))


def harmonic_table(amplitudes: np.ndarray) -> np.ndarray:
    """One period ``[..., TABLE_SIZE]`` of ``sum_k amplitudes[..., k-1] * sin(2 pi k x)``."""
    spectrum = np.zeros(amplitudes.shape[:-1] + (TABLE_SIZE // 2 + 1,), complex)
    count = min(amplitudes.shape[-1], TABLE_SIZE // 2 - 1)
    spectrum[..., 1 : count + 1] = -0.5j * TABLE_SIZE * amplitudes[..., :count]
    return np.fft.irfft(spectrum, TABLE_SIZE)


def wavetable(tables: np.ndarray, cycles: np.ndarray, weights: np.ndarray | None = None) -> np.ndarray:
    """Read tables ``[M, TABLE_SIZE]`` (one period each) at phase ``cycles`` ``[T]`` (in periods,
    float64) with linear interpolation, mixed by ``weights`` ``[M, T]`` (default: summed)."""
    pos = (cycles % 1.0) * TABLE_SIZE
    i0 = pos.astype(np.int64)
    frac = (pos - i0).astype(np.float32)
    extended = np.concatenate([tables, tables[:, :1]], axis=1).astype(np.float32)
    out = np.zeros(len(cycles), np.float32)
    for m in range(len(tables)):
        a, b = extended[m, i0], extended[m, i0 + 1]
        value = a + (b - a) * frac
        out += value * weights[m] if weights is not None else value
    return out


def morphing_wavetable(tables: np.ndarray, cycles: np.ndarray, hop: int) -> np.ndarray:
    """Read a sequence of tables ``[F, TABLE_SIZE]``, table ``f`` describing sample ``f * hop``,
    crossfading between neighbours: a time-varying spectrum at the cost of an oscillator.
    ``cycles`` ``[T]`` with ``T <= (F - 1) * hop`` -> ``[T]``."""
    pos = (cycles % 1.0) * TABLE_SIZE
    i0 = pos.astype(np.int64)
    frac = (pos - i0).astype(np.float32)
    extended = np.concatenate([tables, tables[:, :1]], axis=1).astype(np.float32)
    frame = np.arange(len(cycles)) // hop
    blend = ((np.arange(len(cycles)) % hop) / hop).astype(np.float32)
    out = np.zeros(len(cycles), np.float32)
    for f, w in ((frame, 1.0 - blend), (frame + 1, blend)):
        a, b = extended[f, i0], extended[f, i0 + 1]
        out += (a + (b - a) * frac) * w
    return out


def lowpass_gain(freqs: np.ndarray, cutoff: float, order: int = 4) -> np.ndarray:
    """Magnitude of a Butterworth-like low-pass at ``freqs``."""
    return 1.0 / np.sqrt(1.0 + (freqs / cutoff) ** (2 * order))


def band_noise(rng: np.random.Generator, n: int, sample_rate: int, low: float | None, high: float | None) -> np.ndarray:
    """White noise ``[n]`` band-limited to ``[low, high]`` Hz (either may be None)."""
    noise = rng.standard_normal(n)
    nyquist = sample_rate / 2
    high = None if high is None or high >= 0.95 * nyquist else high
    low = None if low is None or low >= 0.95 * nyquist else low
    if low and high:
        sos = signal.butter(4, [low, high], "bandpass", fs=sample_rate, output="sos")
    elif low:
        sos = signal.butter(4, low, "highpass", fs=sample_rate, output="sos")
    elif high:
        sos = signal.butter(4, high, "lowpass", fs=sample_rate, output="sos")
    else:
        return noise
    return signal.sosfilt(sos, noise)


def pan(mono: np.ndarray, position: float) -> np.ndarray:
    """Constant-power pan: ``position`` in [-1 (left), 1 (right)] -> ``[2, T]``."""
    angle = (position + 1.0) * np.pi / 4
    return np.stack([np.cos(angle) * mono, np.sin(angle) * mono])


def add_at(buffer: np.ndarray, sound: np.ndarray, start: int) -> None:
    """``buffer[..., start:] += sound`` where it fits (``[T]`` or ``[2, T]``)."""
    if start >= buffer.shape[-1]:
        return
    length = min(sound.shape[-1], buffer.shape[-1] - start)
    buffer[..., start : start + length] += sound[..., :length]


class Reverb:
    """A decorrelated stereo room (decaying low-passed noise impulse responses), applied by FFT
    to a mono send of each source; the room's spectrum is computed once for all sources."""

    def __init__(self, rng: np.random.Generator, sample_rate: int, length: int, seconds: float, brightness: float) -> None:
        n = max(1, int(seconds * sample_rate))
        decay = np.exp(-6.9 * np.arange(n) / n)  # -60 dB over ``seconds``
        ir = np.stack([band_noise(rng, n, sample_rate, None, brightness) for _ in range(2)]) * decay
        ir /= np.sqrt((ir**2).sum(axis=1, keepdims=True))
        self.length = length
        self.fft_size = sp_fft.next_fast_len(length + n, real=True)
        self.spectrum = sp_fft.rfft(ir, self.fft_size, axis=-1)

    def __call__(self, stereo: np.ndarray, wet: float) -> np.ndarray:
        """``stereo`` ``[2, length]`` mixed with its reverberation."""
        send = sp_fft.rfft(stereo.mean(axis=0), self.fft_size)
        tail = sp_fft.irfft(send[None, :] * self.spectrum, self.fft_size, axis=-1)[:, : self.length]
        return (1.0 - wet) * stereo + wet * tail


def place(stereo: np.ndarray, position: float, width: float) -> np.ndarray:
    """Narrow/widen ``[2, T]`` (``width`` 0 = mono, 1 = as is) and move it to ``position``."""
    mid, side = stereo.mean(axis=0), (stereo[0] - stereo[1]) / 2 * width
    angle = (position + 1.0) * np.pi / 4
    return np.stack([(mid + side) * np.cos(angle), (mid - side) * np.sin(angle)]) * np.sqrt(2.0)
