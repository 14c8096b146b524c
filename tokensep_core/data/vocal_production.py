"""A studio chain for a rendered lead vocal: high-pass, compression, pan, a stereo room and
sometimes an echo.

A lead rendered note by note is dry, and silent between notes: in the 8-excerpt corpus 46 % of
the vocal stems' 20-ms frames were more than 80 dB below their peak, against 5-7 % for the other
stems (FluidSynth's reverb fills theirs). Vocals in produced music are compressed and sit in a
room or a plate, so their phrases ring on. Without this a model can learn "dry and gated" as
what a vocal is. Each song draws its chain (:func:`draw_chain`) from a random stream of its own,
so the rest of the song is the same with or without it.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import numpy as np
from scipy import signal

from tokensep_core.data import dsp

VocalProduction = Literal["dry", "studio"]
VOCAL_PRODUCTIONS: tuple[VocalProduction, ...] = ("dry", "studio")
DETECTOR_SECONDS = 0.02  # the compressor's level detector (one-pole RMS)
ECHO_PROBABILITY = 0.35
ECHO_REPEATS = 4


@dataclass(frozen=True)
class VocalChain:
    """One song's vocal chain."""

    highpass_hz: float
    threshold_db: float  # relative to the line's RMS while it sings
    ratio: float
    room_seconds: float  # -60 dB decay time
    brightness: float  # Hz: the room's low-pass
    wet: float
    echo_seconds: float | None  # None: no echo
    echo_feedback: float
    echo_level: float


def draw_chain(rng: np.random.Generator) -> VocalChain:
    echo = bool(rng.random() < ECHO_PROBABILITY)
    return VocalChain(
        highpass_hz=float(rng.uniform(70, 150)),
        threshold_db=float(rng.uniform(-8, 0)),
        ratio=float(rng.uniform(2, 6)),
        room_seconds=float(rng.uniform(0.8, 2.8)),
        brightness=float(rng.uniform(3000, 9000)),
        wet=float(rng.uniform(0.1, 0.4)),
        echo_seconds=float(rng.uniform(0.09, 0.4)) if echo else None,
        echo_feedback=float(rng.uniform(0.2, 0.45)),
        echo_level=float(rng.uniform(0.08, 0.25)),
    )


def highpass(mono: np.ndarray, sample_rate: int, hz: float) -> np.ndarray:
    """Second-order Butterworth high-pass, zero phase -> ``[T]``."""
    sos = signal.butter(2, hz, "highpass", fs=sample_rate, output="sos")
    return signal.sosfiltfilt(sos, mono)


def compress(mono: np.ndarray, sample_rate: int, threshold_db: float, ratio: float) -> np.ndarray:
    """Downward compression of ``mono`` ``[T]`` above ``threshold_db`` (relative to its RMS over the
    frames that sing), with make-up gain back to that RMS -> ``[T]``."""
    power = np.square(mono)
    singing = power[power > 0]
    if singing.size == 0:
        return mono
    reference = float(np.mean(singing))
    alpha = 1.0 - np.exp(-1.0 / (DETECTOR_SECONDS * sample_rate))
    level = signal.lfilter([alpha], [1.0, alpha - 1.0], power)
    level_db = 10.0 * np.log10(np.maximum(level, 1e-12) / reference)
    gain = 10.0 ** (-np.maximum(level_db - threshold_db, 0.0) * (1.0 - 1.0 / ratio) / 20.0)
    out = mono * gain
    made = float(np.mean(np.square(out[power > 0])))
    return out * np.sqrt(reference / made) if made > 0 else out


def echo(stereo: np.ndarray, sample_rate: int, seconds: float, feedback: float, level: float) -> np.ndarray:
    """``stereo`` ``[2, T]`` plus :data:`ECHO_REPEATS` repeats every ``seconds``, each ``feedback``
    quieter than the one before, the first at ``level``; left and right alternate (ping-pong)."""
    out = stereo.copy()
    step = int(round(seconds * sample_rate))
    mono = stereo.mean(axis=0)
    for k in range(1, ECHO_REPEATS + 1):
        if k * step >= stereo.shape[-1]:
            break
        side = (k - 1) % 2
        out[side, k * step :] += level * feedback ** (k - 1) * mono[: -k * step]
    return out


def produce(mono: np.ndarray, position: float, sample_rate: int, chain: VocalChain, rng: np.random.Generator) -> np.ndarray:
    """A dry lead ``[T]`` through ``chain``, panned to ``position`` -> stereo ``[2, T]``; the room's
    impulse responses are drawn from ``rng``."""
    shaped = compress(highpass(mono.astype(np.float64), sample_rate, chain.highpass_hz), sample_rate, chain.threshold_db, chain.ratio)
    stereo = dsp.pan(shaped, position)
    room = dsp.Reverb(rng, sample_rate, stereo.shape[-1], chain.room_seconds, chain.brightness)
    wet = room(stereo, chain.wet)
    if chain.echo_seconds is not None:
        wet = echo(wet, sample_rate, chain.echo_seconds, chain.echo_feedback, chain.echo_level)
    return wet
