"""Pitched instruments (bass, pads, keys, plucks): wavetable oscillators whose timbre moves from a
bright to a dark table (a filter envelope), shaped by an ADSR, optionally detuned in stereo."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from tokensep_core.data import dsp
from tokensep_core.data.score import Note


@dataclass(frozen=True)
class ToneVoice:
    """Timbre of a pitched instrument."""

    tilt: float  # harmonic k has amplitude k**-tilt
    odd_only: bool
    bright_cutoff: float  # Hz, low-pass of the attack's spectrum
    dark_cutoff: float  # Hz, low-pass of the sustained spectrum
    brightness_decay: float  # s, bright -> dark
    attack: float
    decay: float
    sustain: float
    release: float
    detune_cents: float = 0.0  # > 0: two oscillators, one per channel
    max_harmonics: int = 40


def bass_voice(rng: np.random.Generator) -> ToneVoice:
    """A bass whose energy stays mostly below ~300 Hz (sub, filtered saw or square, plucked)."""
    cutoff = rng.uniform(160, 320)
    return ToneVoice(
        tilt=rng.uniform(1.0, 2.0),
        odd_only=bool(rng.random() < 0.3),
        bright_cutoff=cutoff * rng.uniform(1.2, 2.0),
        dark_cutoff=cutoff,
        brightness_decay=rng.uniform(0.03, 0.2),
        attack=rng.uniform(0.002, 0.01),
        decay=rng.uniform(0.2, 0.8),
        sustain=rng.uniform(0.3, 0.9),
        release=rng.uniform(0.02, 0.08),
        max_harmonics=16,
    )


def other_voice(rng: np.random.Generator, style: str) -> ToneVoice:
    """Timbre for the ``other`` stem in one of the styles of :data:`score.OTHER_STYLES`."""
    if style == "pad":
        return ToneVoice(
            tilt=rng.uniform(0.9, 1.6),
            odd_only=bool(rng.random() < 0.3),
            bright_cutoff=rng.uniform(1500, 4000),
            dark_cutoff=rng.uniform(800, 2500),
            brightness_decay=rng.uniform(0.5, 2.0),
            attack=rng.uniform(0.15, 0.6),
            decay=rng.uniform(0.5, 1.5),
            sustain=rng.uniform(0.6, 0.9),
            release=rng.uniform(0.3, 0.8),
            detune_cents=rng.uniform(4, 14),
        )
    if style == "keys":
        return ToneVoice(
            tilt=rng.uniform(1.5, 2.5),
            odd_only=bool(rng.random() < 0.4),
            bright_cutoff=rng.uniform(3000, 7000),
            dark_cutoff=rng.uniform(900, 2000),
            brightness_decay=rng.uniform(0.1, 0.4),
            attack=rng.uniform(0.002, 0.01),
            decay=rng.uniform(0.3, 1.2),
            sustain=rng.uniform(0.1, 0.4),
            release=rng.uniform(0.08, 0.3),
            detune_cents=rng.uniform(0, 4),
        )
    return ToneVoice(
        tilt=rng.uniform(0.8, 1.4),
        odd_only=False,
        bright_cutoff=rng.uniform(4000, 9000),
        dark_cutoff=rng.uniform(600, 1500),
        brightness_decay=rng.uniform(0.03, 0.12),
        attack=rng.uniform(0.001, 0.004),
        decay=rng.uniform(0.1, 0.35),
        sustain=0.0,
        release=rng.uniform(0.05, 0.2),
        detune_cents=rng.uniform(0, 6),
    )


def _tables(voice: ToneVoice, freq: float, sample_rate: int) -> np.ndarray:
    """Bright and dark periods ``[2, TABLE_SIZE]`` of a note at ``freq``."""
    count = max(1, min(voice.max_harmonics, int(0.45 * sample_rate / freq)))
    k = np.arange(1, count + 1)
    amps = k**-voice.tilt * (1.0 if not voice.odd_only else (k % 2 == 1))
    cutoffs = np.array([[voice.bright_cutoff], [voice.dark_cutoff]])
    return dsp.harmonic_table(amps * dsp.lowpass_gain(k * freq, cutoffs))


def render_notes(notes: list[Note], voice: ToneVoice, n: int, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """Play ``notes`` with ``voice`` -> ``[2, n]`` (identical channels unless detuned)."""
    out = np.zeros((2, n), np.float32)
    detune = [2.0 ** (-voice.detune_cents / 1200.0), 2.0 ** (voice.detune_cents / 1200.0)] if voice.detune_cents >= 1.0 else [1.0]
    for note in notes:
        start = int(round(note.start * sample_rate))
        length = min(n - start, int((note.duration + voice.release * 4) * sample_rate))
        if length <= 0:
            continue
        freq = float(dsp.midi_to_hz(note.pitch))
        t = np.arange(length) / sample_rate
        amp = (
            dsp.envelope(length, sample_rate, voice.attack, voice.decay, voice.sustain, voice.release, note.duration) * note.velocity
        ).astype(np.float32)
        # the bright table fades out within ~7 time constants; after that only the dark one sounds
        head = min(length, int(7 * voice.brightness_decay * sample_rate))
        bright_mix = np.exp(-t[:head] / voice.brightness_decay).astype(np.float32)
        weights = np.stack([bright_mix * amp[:head], (1 - bright_mix) * amp[:head]])
        tables = _tables(voice, freq, sample_rate)
        phase = rng.random()
        channels = []
        for factor in detune:
            cycles = phase + freq * factor * t
            sound = np.empty(length, np.float32)
            sound[:head] = dsp.wavetable(tables, cycles[:head], weights)
            sound[head:] = dsp.wavetable(tables[1:], cycles[head:], amp[None, head:])
            channels.append(sound)
        dsp.add_at(out, np.stack([channels[0], channels[-1]]), start)
    return out
