"""Recorded speech sung to a melody: each note of the lead line takes the next voiced unit of the
song's clips (:mod:`~tokensep_core.data.speech_units`), stretched to the note's length and set to
its pitch by Praat's pitch-synchronous overlap-add (PSOLA, a ``Manipulation`` through
parselmouth), which keeps the speaker's formants.

Pitch contour per note: a glide from the previous note (or a one-semitone scoop after a rest)
over the song's glide time, then the note's pitch with a vibrato that fades in after
:data:`VIBRATO_DELAY`. The whole line is moved by whole octaves towards the speaker's register
(:func:`octave_shift`), so a flute-high lead does not turn a speaking voice into a chipmunk.
Units are taken round-robin over the clips, so with at least as many notes as clips every clip
sings. How a unit fills its note (``vowels``):

- ``held``: its vowel nucleus (:func:`nucleus`, the steadiest loud stretch of its voicing) is
  held through the note at one level (:func:`steady_level`), lengthened in passes where Praat's
  3× limit would stop it short (:func:`psola`), while the consonants and glides around it keep
  their natural speed (:func:`time_map`); a note followed within :data:`LEGATO_GAP` by the next
  one sings on into it and crossfades over :data:`CROSSFADE`, so a phrase is one line;
- ``stretched`` (every corpus before 2026-11-28's twenty-sixth session): the lead-in (the consonant
  before the voicing) keeps its length, up to :data:`MAX_LEAD_SHARE` of the note, and the whole
  voiced part stretches alike, at most 3× (a longer note falls silent before its end); each note
  stops at its end.

Each unit is levelled to the same RMS, scaled by the note's velocity, faded in and out and placed
from the note's onset: silence between notes that are not legato.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from math import gcd
from pathlib import Path
from typing import Literal

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
CROSSFADE = FADE_OUT  # s: with held vowels, a note running into the next (legato) overlaps it this long
REGISTER_ABOVE_SPEECH = 5.0  # semitones: the line is centred this far above the speaker's speaking pitch
MAX_OCTAVES = 3
POINT_STEP = 0.005  # s of output between pitch-tier points
MAX_LEAD_SHARE = 0.25  # of a note: the longest lead-in kept unstretched ("stretched" vowels)
SungVowels = Literal["held", "stretched"]
VOWELS: tuple[SungVowels, ...] = ("held", "stretched")
NUCLEUS_HOP, NUCLEUS_BANDS = 0.01, 24  # s, log-spaced bands of the nucleus search
NUCLEUS_SHARE = 0.4  # of the voiced part: the length of the held nucleus
NUCLEUS_LEVEL_DB = 6.0
MAX_EDGE_SHARE = 0.5  # of a note: the most that the consonants and glides around the nucleus take
PRAAT_MAX_STRETCH = 3.0  # Praat's overlap-add lengthens at most this much (measured: 0.24 s asked for 1 s gives 0.72 s)
PASS_STRETCH, MAX_PASSES = 2.8, 6  # the most one pass of psola's lengthening asks for; 2.8^6 > 400x
LEVEL_WINDOW, MAX_LEVEL_GAIN_DB = 0.05, 12.0  # s, dB: how a held vowel is kept at one level


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


def nucleus(segment: np.ndarray, rate: int, voiced: float) -> tuple[float, float]:
    """The vowel nucleus of a unit ``[T]`` whose voicing starts at ``voiced`` s -> (start, end) s:
    of the windows spanning :data:`NUCLEUS_SHARE` of the voiced part, the one with the steadiest
    spectrum (least mean change of log band energies from frame to frame) among those within
    :data:`NUCLEUS_LEVEL_DB` of the loudest window's level."""
    hop = int(NUCLEUS_HOP * rate)
    first, frames = int(voiced * rate) // hop, (len(segment) - 2 * hop) // hop + 1
    if frames - first < 3:
        return voiced, len(segment) / rate
    window = np.hanning(2 * hop)
    power = np.abs(np.fft.rfft(np.stack([segment[k * hop : (k + 2) * hop] * window for k in range(first, frames)]), axis=1)) ** 2
    edges = np.unique(np.geomspace(2, power.shape[1], NUCLEUS_BANDS + 1).astype(int))
    bands = 10 * np.log10(np.add.reduceat(power, edges[:-1], axis=1) + 1e-10)  # [F, bands]
    level = 10 * np.log10(power.sum(axis=1) + 1e-10)  # [F]
    flux = np.abs(np.diff(bands, axis=0)).mean(axis=1)  # [F - 1], from frame k to k + 1
    width = max(3, int(round(NUCLEUS_SHARE * len(level))))
    window_level = np.convolve(level, np.ones(width) / width, "valid")  # [F - width + 1]
    window_flux = np.convolve(flux, np.ones(width - 1) / (width - 1), "valid")
    loud = np.flatnonzero(window_level >= window_level.max() - NUCLEUS_LEVEL_DB)
    best = first + int(loud[np.argmin(window_flux[loud])])
    return (best + 0.5) * hop / rate, (best + width + 0.5) * hop / rate  # frame k is centred at (k + 1) hops


def time_map(length: float, lead: float, duration: float, held: tuple[float, float] | None) -> tuple[np.ndarray, np.ndarray]:
    """Source and output times (s) of the boundaries of a piecewise-linear stretch of a unit of
    ``length`` s, voiced after its ``lead`` s, to ``duration`` s -> two increasing ``[P]``.

    ``held`` None: the lead as it is (up to :data:`MAX_LEAD_SHARE` of the note), the voiced part
    stretched uniformly. ``held`` (start, end): that part (the vowel nucleus) stretched to fill the
    note, everything before and after it at natural speed, or sped up alike when together they
    would take more than :data:`MAX_EDGE_SHARE` of the note."""
    if held is None:
        lead = min(lead, MAX_LEAD_SHARE * duration, 0.5 * length)
        return np.array([0.0, lead, length]), np.array([0.0, lead, duration])
    a = min(max(held[0], lead), length)
    b = min(max(held[1], a), length)
    edges = a + (length - b)
    speed = min(1.0, MAX_EDGE_SHARE * duration / edges) if edges > 0 else 1.0
    source = np.array([0.0, lead, a, b, length])
    output = np.cumsum([0.0, lead * speed, (a - lead) * speed, 0.0, (length - b) * speed])
    output[3:] += max(duration - output[-1], 1e-3)  # the held part takes what is left
    return source, output


def steady_level(sung: np.ndarray, rate: int, start: float, end: float) -> np.ndarray:
    """``sung`` ``[T]`` with its held vowel (``start`` to ``end`` s) at one level: the vowel's
    RMS envelope (:data:`LEVEL_WINDOW`) divided out and its median restored, the gain held within
    :data:`MAX_LEVEL_GAIN_DB` and eased in and out over :data:`LEVEL_WINDOW`; a nucleus whose level
    rose or fell would otherwise rise or fall through the whole note."""
    a, b = int(start * rate), min(int(end * rate), len(sung))
    window = int(LEVEL_WINDOW * rate)
    if b - a < 4 * window:
        return sung
    power = np.convolve(sung[a:b] ** 2, np.ones(window) / window, "same")
    envelope = np.sqrt(power) + 1e-9
    limit = 10 ** (MAX_LEVEL_GAIN_DB / 20)
    gain = np.clip(np.median(envelope) / envelope, 1 / limit, limit)
    ease = np.minimum(1.0, np.minimum(np.arange(b - a), np.arange(b - a)[::-1]) / window)
    out = sung.copy()
    out[a:b] *= 1 + (gain - 1) * ease
    return out


def psola(
    segment: np.ndarray,
    rate: int,
    source: np.ndarray,
    output: np.ndarray,
    contour: np.ndarray,
    step: float,
    seed: int,
    full_length: bool = True,
) -> np.ndarray:
    """``segment`` ``[T]`` stretched along the piecewise-linear map ``source`` -> ``output`` (s,
    :func:`time_map`) and set to ``contour`` (MIDI pitch, one value per ``step`` s of output) by
    Praat's overlap-add resynthesis -> ``[~output[-1] * rate]``. Praat lengthens a stretch at most
    :data:`PRAAT_MAX_STRETCH` times (a longer request comes out that long); with ``full_length``,
    pieces that need more are first lengthened in passes of at most :data:`PASS_STRETCH` at their
    own pitch (at most :data:`MAX_PASSES`). Without it (``stretched`` vowels, as every corpus before 2026-11-28's twenty-sixth
    session) the result stops short. Praat draws random numbers when it stretches; ``seed`` seeds
    them, so the result is repeatable."""
    run(f"random_initializeWithSeedUnsafelyButPredictably ({seed})")
    source = np.asarray(source, dtype=float)
    for _ in range(MAX_PASSES if full_length else 0):
        ratios = np.diff(output) / np.maximum(np.diff(source), 1e-9)
        if ratios.max() <= PASS_STRETCH:
            break
        longer = np.cumsum([0.0, *(np.diff(source) * np.clip(ratios, 1.0, PASS_STRETCH))])
        segment = _overlap_add(segment, rate, source, longer, None, step)
        source = longer * (len(segment) / rate / longer[-1])  # where the boundaries landed
    return _overlap_add(segment, rate, source, output, contour, step)


def _overlap_add(
    segment: np.ndarray, rate: int, source: np.ndarray, output: np.ndarray, contour: np.ndarray | None, step: float
) -> np.ndarray:
    """One Praat overlap-add pass of :func:`psola` (``contour`` None: the segment's own pitch)."""
    sound = parselmouth.Sound(segment, sampling_frequency=rate)
    manipulation = call(sound, "To Manipulation", 0.01, PITCH_FLOOR, PITCH_CEILING)
    durations = call("Create DurationTier", "stretch", 0.0, sound.duration)
    pieces = [k for k in range(len(source) - 1) if source[k + 1] - source[k] > 0.002]
    for k in pieces:  # each piece's ratio from its start to 1 ms before its end (the last's to the end)
        ratio = (output[k + 1] - output[k]) / (source[k + 1] - source[k])
        call(durations, "Add point", source[k], ratio)
        if k != pieces[-1]:
            call(durations, "Add point", source[k + 1] - 0.001, ratio)
    call([manipulation, durations], "Replace duration tier")
    if contour is not None:
        pitches = call("Create PitchTier", "melody", 0.0, sound.duration)
        hz = 440.0 * 2.0 ** ((contour - 69.0) / 12.0)
        for k, value in enumerate(hz):
            call(pitches, "Add point", float(np.interp(k * step, output, source)), float(value))
        call([manipulation, pitches], "Replace pitch tier")
    return call(manipulation, "Get resynthesis (overlap-add)").values[0]


def _resample(audio: np.ndarray, rate: int, sample_rate: int) -> np.ndarray:
    if rate == sample_rate:
        return audio
    common = gcd(rate, sample_rate)
    return resample_poly(audio, sample_rate // common, rate // common)


def sing(
    notes: list[Note], clips: list[Path], n: int, sample_rate: int, rng: np.random.Generator, vowels: SungVowels = "held"
) -> np.ndarray:
    """The notes sung by the speech in ``clips`` -> mono float32 ``[n]`` (peak at most 0.9;
    silent when no clip has a voiced unit). ``vowels`` "held" holds each unit's vowel nucleus
    through the note, and a note the next one follows within :data:`LEGATO_GAP` crossfades into
    it; "stretched" (every corpus before 2026-11-28's twenty-sixth session) stretches each
    unit's whole voiced part alike, and every note stops at its end."""
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
        seconds = note.duration  # held vowels run a legato note on into the next one
        if vowels == "held" and k + 1 < len(notes) and notes[k + 1].start - (note.start + note.duration) <= LEGATO_GAP:
            seconds = notes[k + 1].start - note.start + CROSSFADE
        times = np.arange(int(seconds / POINT_STEP) + 2) * POINT_STEP
        contour = pitch_contour(times, note.pitch + shift, previous.pitch + shift if legato else None, style, note.duration)
        try:
            lead = unit.voiced - unit.start
            held = nucleus(segment, clip.rate, lead) if vowels == "held" else None
            source, output = time_map(len(segment) / clip.rate, lead, seconds, held)
            sung = psola(segment, clip.rate, source, output, contour, POINT_STEP, int(rng.integers(2**31)), vowels == "held")
            if held is not None:
                sung = steady_level(sung, clip.rate, output[2], output[3])
        except parselmouth.PraatError as err:
            raise TokensepError(
                f"voice: PSOLA failed on a unit of {clips[order[k % len(order)][0]]} ({str(err).strip().splitlines()[0]})"
            ) from None
        fade_in = CROSSFADE if vowels == "held" and legato else FADE_IN
        place(out, _resample(sung, clip.rate, sample_rate), note.start, seconds, note.velocity, sample_rate, fade_in)
        previous = note
    run("random_initializeSafelyAndUnpredictably ()")
    peak = np.abs(out).max()
    return (out * (0.9 / peak) if peak > 0 else out).astype(np.float32)


def place(out: np.ndarray, sung: np.ndarray, start: float, seconds: float, velocity: float, sample_rate: int, fade_in: float) -> None:
    """Add a sung unit to ``out`` ``[n]`` for ``seconds`` from ``start`` (s): RMS-levelled, scaled
    by ``velocity``, faded in over ``fade_in`` s and out over :data:`FADE_OUT`."""
    a = int(round(start * sample_rate))
    length = min(int(round(seconds * sample_rate)), len(sung), len(out) - a)
    if length <= 0:
        return
    piece = sung[:length] / (np.sqrt(np.mean(sung[:length] ** 2)) + 1e-9) * (0.3 + 0.7 * velocity)
    fade_in_samples, fade_out = min(int(fade_in * sample_rate), length // 4), min(int(FADE_OUT * sample_rate), length // 2)
    piece[:fade_in_samples] *= np.linspace(0.0, 1.0, fade_in_samples, endpoint=False)
    piece[length - fade_out :] *= np.linspace(1.0, 0.0, fade_out)
    out[a : a + length] += piece
