"""A singing-like voice: additive harmonics of a glide-and-vibrato pitch contour, shaped by vowel
formant envelopes that move from syllable to syllable, with consonant and breath noise.

Controls (pitch, formants, loudness) are computed at a control rate; the spectrum of each control
frame becomes one wavetable, and the oscillator crossfades from table to table.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tokensep_core.data import dsp
from tokensep_core.data.score import Note

CONTROL_HOP = 128
# formant frequencies (Hz) and relative amplitudes of F1..F3 per vowel of score.VOWELS
_FORMANTS = np.array([[730, 1090, 2440], [530, 1840, 2480], [290, 2250, 2890], [570, 840, 2410], [320, 870, 2240]], float)
_FORMANT_GAIN = np.array([[1.0, 0.5, 0.25], [1.0, 0.45, 0.3], [1.0, 0.25, 0.2], [1.0, 0.45, 0.12], [1.0, 0.3, 0.08]])
_BANDWIDTH = np.array([90.0, 110.0, 160.0])


@dataclass(frozen=True)
class Singer:
    """Per-song traits of the voice."""

    formant_scale: float  # > 1 for a smaller vocal tract
    tilt: float
    vibrato_rate: float
    vibrato_cents: float
    glide: float  # s, portamento between notes
    breathiness: float
    singer_formant: float  # gain of the ~3 kHz ring


def make_singer(rng: np.random.Generator, high_voice: bool) -> Singer:
    return Singer(
        formant_scale=rng.uniform(1.08, 1.2) if high_voice else rng.uniform(0.92, 1.05),
        tilt=rng.uniform(0.6, 1.1),
        vibrato_rate=rng.uniform(4.5, 6.5),
        vibrato_cents=rng.uniform(20, 60),
        glide=rng.uniform(0.03, 0.09),
        breathiness=rng.uniform(0.01, 0.05),
        singer_formant=rng.uniform(0.0, 0.3),
    )


def phrases(notes: list[Note], max_gap: float = 0.12) -> list[list[Note]]:
    """Split notes into phrases at rests longer than ``max_gap`` seconds."""
    groups: list[list[Note]] = []
    for note in notes:
        if groups and note.start - (groups[-1][-1].start + groups[-1][-1].duration) <= max_gap:
            groups[-1].append(note)
        else:
            groups.append([note])
    return groups


def _smooth(x: np.ndarray, width: int) -> np.ndarray:
    """Moving average along the last axis (edges held)."""
    if width <= 1:
        return x
    pad = [(0, 0)] * (x.ndim - 1) + [(width // 2, width - 1 - width // 2)]
    padded = np.pad(x, pad, mode="edge")
    kernel = np.ones(width) / width
    return np.apply_along_axis(lambda row: np.convolve(row, kernel, mode="valid"), -1, padded)


def _phrase(notes: list[Note], singer: Singer, sample_rate: int, rng: np.random.Generator) -> tuple[int, np.ndarray]:
    """-> (start sample, mono ``[T]``) of one phrase."""
    control_rate = sample_rate / CONTROL_HOP
    t0 = notes[0].start
    end = notes[-1].start + notes[-1].duration + 0.15
    frames = int((end - t0) * control_rate) + 2
    tc = np.arange(frames) / control_rate
    pitch = np.full(frames, float(notes[0].pitch))
    vowel = np.full(frames, notes[0].vowel)
    gate = np.zeros(frames)
    vibrato_onset = np.zeros(frames)  # time since the current note began
    for note in notes:
        a, b = int((note.start - t0) * control_rate), int((note.start - t0 + note.duration) * control_rate)
        pitch[a:] = note.pitch
        vowel[a:] = note.vowel
        gate[a:b] = note.velocity
        vibrato_onset[a:] = tc[a:] - tc[a]
    pitch = _smooth(pitch, max(1, int(singer.glide * control_rate)))
    depth = singer.vibrato_cents / 100.0 * np.clip((vibrato_onset - 0.15) / 0.3, 0.0, 1.0)
    pitch = (
        pitch + depth * np.sin(2 * np.pi * singer.vibrato_rate * tc) + 0.05 * _smooth(rng.standard_normal(frames), int(0.1 * control_rate))
    )
    f0 = dsp.midi_to_hz(pitch)
    formants = _smooth((_FORMANTS[vowel] * singer.formant_scale).T, max(1, int(0.06 * control_rate)))  # [3, frames]
    gains = _smooth(_FORMANT_GAIN[vowel].T, max(1, int(0.06 * control_rate)))
    loud = _smooth(gate, max(1, int(0.03 * control_rate)))

    count = int(min(dsp.TABLE_SIZE // 2 - 1, 0.45 * sample_rate / f0.min()))
    k = np.arange(1, count + 1)[:, None]
    freqs = k * f0[None, :]  # [K, frames]
    shape = sum(gains[i][None, :] / (1.0 + ((freqs - formants[i][None, :]) / (_BANDWIDTH[i] / 2)) ** 2) for i in range(3))
    shape = shape + singer.singer_formant / (1.0 + ((freqs - 3000.0) / 250.0) ** 2) + 0.02
    amps = shape * k**-singer.tilt * loud[None, :] * (freqs < 0.45 * sample_rate)  # band-limited per frame

    n = (frames - 1) * CONTROL_HOP
    audio_time = np.arange(n) / CONTROL_HOP
    cycles = np.cumsum(np.interp(audio_time, np.arange(frames), f0) / sample_rate)
    voiced = dsp.morphing_wavetable(dsp.harmonic_table(amps.T), cycles, CONTROL_HOP).astype(np.float64)

    # breath: noise following the loudness; consonants: short noise bursts at some note onsets
    loud_audio = np.interp(audio_time, np.arange(frames), loud)
    noise = dsp.band_noise(rng, n, sample_rate, 1500, 9000)
    unvoiced = singer.breathiness * noise * loud_audio
    for note in notes[1:]:
        if rng.random() < 0.5:
            a = int((note.start - t0) * sample_rate)
            burst = int(rng.uniform(0.02, 0.06) * sample_rate)
            ramp = np.exp(-np.arange(burst) / (burst / 3))
            dsp.add_at(unvoiced, noise[a : a + burst] * ramp * rng.uniform(0.1, 0.3), a)
    return int(round(t0 * sample_rate)), voiced / (np.abs(voiced).max() + 1e-9) + unvoiced


def render_vocals(notes: list[Note], singer: Singer, n: int, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """The vocal line -> mono ``[n]``."""
    out = np.zeros(n)
    for group in phrases(notes):
        start, sound = _phrase(group, singer, sample_rate, rng)
        dsp.add_at(out, sound, start)
    return out
