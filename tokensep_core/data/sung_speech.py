"""Recorded speech sung to a melody: each note of the lead line takes the next voiced unit of the
song's clips (:mod:`~tokensep_core.data.speech_units`), stretched to the note's length and set to
its pitch by Praat's pitch-synchronous overlap-add (PSOLA, a ``Manipulation`` through
parselmouth), which keeps the speaker's formants.

Pitch contour per note: a glide from the previous note (or a one-semitone scoop after a rest)
over the song's glide time, then the note's pitch with a vibrato that fades in after
:data:`VIBRATO_DELAY`. The whole line is moved by whole octaves towards the speaker's register
(:func:`octave_shift`), so a flute-high lead does not turn a speaking voice into a chipmunk.
Units are taken round-robin over the clips, so with at least as many notes as clips every clip
sings. A unit's lead-in (the consonant before its voicing) keeps its length, up to
:data:`MAX_LEAD_SHARE` of the note; only the voiced part stretches. Each unit is levelled to the same RMS, scaled by the note's velocity, faded in and out and
placed from the note's onset to its end: silence between notes.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from math import gcd
from pathlib import Path

import numpy as np
import parselmouth
from parselmouth.praat import call, run
from scipy.signal import resample_poly

from tokensep_core.data.score import Note
from tokensep_core.data.speech_units import PITCH_CEILING, PITCH_FLOOR, Unit, voiced_units
from tokensep_core.data.voice_sources import decode_clip
from tokensep_core.errors import TokensepError

VIBRATO_DELAY, VIBRATO_RAMP = 0.15, 0.3  # s
SCOOP = 1.0  # semitones below the note where a note after a rest starts
LEGATO_GAP = 0.15  # s: a note starting this soon after the previous one glides from its pitch
FADE_IN, FADE_OUT = 0.005, 0.03  # s
REGISTER_ABOVE_SPEECH = 5.0  # semitones: the line is centred this far above the speaker's speaking pitch
MAX_OCTAVES = 3
POINT_STEP = 0.005  # s of output between pitch-tier points
MAX_LEAD_SHARE = 0.25  # of a note: the longest lead-in kept unstretched


@dataclass(frozen=True)
class SingingStyle:
    """Per-song traits of the sung line."""

    vibrato_rate: float  # Hz
    vibrato_cents: float
    glide: float  # s


def make_style(rng: np.random.Generator) -> SingingStyle:
    return SingingStyle(float(rng.uniform(4.5, 6.5)), float(rng.uniform(20, 50)), float(rng.uniform(0.04, 0.08)))


@dataclass(frozen=True)
class ClipUnits:
    """A decoded clip and its voiced units."""

    audio: np.ndarray  # mono [T]
    rate: int
    units: tuple[Unit, ...]


@functools.lru_cache(maxsize=256)
def clip_units(path: Path) -> ClipUnits:
    audio, rate = decode_clip(path)
    return ClipUnits(audio, rate, tuple(voiced_units(audio, rate)))


def unit_order(clips: list[ClipUnits]) -> list[tuple[int, int]]:
    """``(clip, unit)`` indices round-robin over the clips: each clip's first unit, then each
    clip's second, and so on."""
    most = max((len(c.units) for c in clips), default=0)
    return [(i, j) for j in range(most) for i, clip in enumerate(clips) if j < len(clip.units)]


def hz_to_midi(hz: float) -> float:
    return 69.0 + 12.0 * np.log2(hz / 440.0)


def octave_shift(notes: list[Note], speaker_hz: float) -> int:
    """Whole octaves that bring the notes' median pitch nearest to :data:`REGISTER_ABOVE_SPEECH`
    above the speaker's median pitch (at most :data:`MAX_OCTAVES` either way)."""
    target = hz_to_midi(speaker_hz) + REGISTER_ABOVE_SPEECH
    median = float(np.median([note.pitch for note in notes]))
    return int(np.clip(round((target - median) / 12.0), -MAX_OCTAVES, MAX_OCTAVES))


def pitch_contour(times: np.ndarray, pitch: float, previous: float | None, style: SingingStyle, duration: float) -> np.ndarray:
    """MIDI pitch at ``times`` (s from the note's onset): glide from ``previous`` (a scoop when
    None), then ``pitch`` with a delayed vibrato."""
    start = pitch - SCOOP if previous is None else previous
    glide = min(style.glide, 0.3 * duration)
    ramp = np.clip(times / glide, 0.0, 1.0)
    ramp = ramp * ramp * (3 - 2 * ramp)
    depth = style.vibrato_cents / 100.0 * np.clip((times - VIBRATO_DELAY) / VIBRATO_RAMP, 0.0, 1.0)
    return start + (pitch - start) * ramp + depth * np.sin(2 * np.pi * style.vibrato_rate * times)


def psola(segment: np.ndarray, rate: int, lead: float, duration: float, contour: np.ndarray, step: float, seed: int) -> np.ndarray:
    """``segment`` ``[T]`` stretched to ``duration`` s, its first ``lead`` s kept as they are, and
    set to ``contour`` (MIDI pitch, one value per ``step`` s of output) by Praat's overlap-add
    resynthesis -> ``[~duration * rate]``. Praat draws random numbers when it stretches; ``seed``
    seeds them, so the result is repeatable."""
    run(f"random_initializeWithSeedUnsafelyButPredictably ({seed})")
    sound = parselmouth.Sound(segment, sampling_frequency=rate)
    length = sound.duration
    lead = min(lead, MAX_LEAD_SHARE * duration, 0.5 * length)
    ratio = (duration - lead) / (length - lead)  # of the voiced part
    manipulation = call(sound, "To Manipulation", 0.01, PITCH_FLOOR, PITCH_CEILING)
    durations = call("Create DurationTier", "stretch", 0.0, length)
    if lead > 0.002:
        call(durations, "Add point", 0.0, 1.0)
        call(durations, "Add point", lead - 0.001, 1.0)
    call(durations, "Add point", lead, ratio)
    call([manipulation, durations], "Replace duration tier")
    pitches = call("Create PitchTier", "melody", 0.0, length)
    hz = 440.0 * 2.0 ** ((contour - 69.0) / 12.0)
    for k, value in enumerate(hz):
        out_time = k * step
        source_time = out_time if out_time < lead else lead + (out_time - lead) / ratio
        call(pitches, "Add point", min(source_time, length), float(value))
    call([manipulation, pitches], "Replace pitch tier")
    return call(manipulation, "Get resynthesis (overlap-add)").values[0]


def _resample(audio: np.ndarray, rate: int, sample_rate: int) -> np.ndarray:
    if rate == sample_rate:
        return audio
    common = gcd(rate, sample_rate)
    return resample_poly(audio, sample_rate // common, rate // common)


def sing(notes: list[Note], clips: list[Path], n: int, sample_rate: int, rng: np.random.Generator) -> np.ndarray:
    """The notes sung by the speech in ``clips`` -> mono float32 ``[n]`` (peak at most 0.9;
    silent when no clip has a voiced unit)."""
    out = np.zeros(n)
    decoded = [clip_units(path) for path in clips]
    order = unit_order(decoded)
    if not notes or not order:
        return out.astype(np.float32)
    style = make_style(rng)
    speaker = float(np.median([decoded[i].units[j].f0 for i, j in order]))
    shift = 12 * octave_shift(notes, speaker)
    previous: Note | None = None
    for k, note in enumerate(notes):
        clip = decoded[order[k % len(order)][0]]
        unit = clip.units[order[k % len(order)][1]]
        segment = clip.audio[int(unit.start * clip.rate) : int(unit.end * clip.rate)]
        legato = previous is not None and note.start - (previous.start + previous.duration) <= LEGATO_GAP
        times = np.arange(int(note.duration / POINT_STEP) + 2) * POINT_STEP
        contour = pitch_contour(times, note.pitch + shift, previous.pitch + shift if legato else None, style, note.duration)
        try:
            sung = psola(segment, clip.rate, unit.voiced - unit.start, note.duration, contour, POINT_STEP, int(rng.integers(2**31)))
        except parselmouth.PraatError as err:
            raise TokensepError(
                f"voice: PSOLA failed on a unit of {clips[order[k % len(order)][0]]} ({str(err).strip().splitlines()[0]})"
            ) from None
        place(out, _resample(sung, clip.rate, sample_rate), note, sample_rate)
        previous = note
    run("random_initializeSafelyAndUnpredictably ()")
    peak = np.abs(out).max()
    return (out * (0.9 / peak) if peak > 0 else out).astype(np.float32)


def place(out: np.ndarray, sung: np.ndarray, note: Note, sample_rate: int) -> None:
    """Add a sung unit to ``out`` ``[n]`` from the note's onset to its end: RMS-levelled, scaled by
    velocity, faded in and out."""
    a = int(round(note.start * sample_rate))
    length = min(int(round(note.duration * sample_rate)), len(sung), len(out) - a)
    if length <= 0:
        return
    piece = sung[:length] / (np.sqrt(np.mean(sung[:length] ** 2)) + 1e-9) * (0.3 + 0.7 * note.velocity)
    fade_in, fade_out = min(int(FADE_IN * sample_rate), length // 4), min(int(FADE_OUT * sample_rate), length // 2)
    piece[:fade_in] *= np.linspace(0.0, 1.0, fade_in, endpoint=False)
    piece[length - fade_out :] *= np.linspace(1.0, 0.0, fade_out)
    out[a : a + length] += piece
