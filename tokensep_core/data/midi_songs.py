"""Real compositions as multitrack songs: excerpts of MIDI files, their parts assigned to the four
stems and rendered with FluidSynth and a soundfont (``tokensep data midi``).

Which part feeds which stem (General MIDI programs):

- **drums**: every part on the drum channel;
- **bass**: parts with a bass program (32–39). When a file has none, its lowest pitched part
  (median pitch below C3) with enough notes plays the bass;
- **vocals**: the lead melody, the highest pitched mostly monophonic part, sung by the
  :mod:`~tokensep_core.data.voice` singer (the compositions hold no recorded voice), or by
  recorded speech set to the notes (:mod:`~tokensep_core.data.sung_speech`). Without a
  monophonic part, the top line of the highest part at or above C4; else no vocals;
- **other**: every remaining part, with its own program.
"""

from __future__ import annotations

import hashlib
import tempfile
import warnings
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pretty_midi

from tokensep_core import STEMS
from tokensep_core.data import dsp
from tokensep_core.data.drum_kits import render_drum_stem
from tokensep_core.data.score import VOWELS, Note
from tokensep_core.data.soundfont import fluidsynth_render
from tokensep_core.data.sung_speech import SungVowels, sing
from tokensep_core.data.vocal_production import VocalProduction, draw_chain, produce
from tokensep_core.data.voice import make_singer, render_vocals
from tokensep_core.errors import TokensepError

BASS_PROGRAMS = range(32, 40)
LOW_PART_MEDIAN = 48  # C3: a part whose median pitch is below this can stand in for the bass
MIN_PART_NOTES = 8
MAX_LEAD_OVERLAP = 0.2  # a lead melody: at most this share of its notes start before the previous one ends
MIN_LEAD_MEDIAN = 60  # C4: a polyphonic part sung as the lead (its top line) must sit this high
MIN_ACTIVE_STEMS = 3  # an excerpt is kept only if this many stems have notes in it


@dataclass(frozen=True)
class Parts:
    """A MIDI file's instruments grouped by stem; ``vocals`` is the lead part (or None)."""

    drums: list[pretty_midi.Instrument]
    bass: list[pretty_midi.Instrument]
    vocals: pretty_midi.Instrument | None
    other: list[pretty_midi.Instrument]


def _median_pitch(instrument: pretty_midi.Instrument) -> float:
    return float(np.median([note.pitch for note in instrument.notes]))


def _overlap(instrument: pretty_midi.Instrument) -> float:
    """Share of notes that start before the previous note (in start order) has ended."""
    notes = sorted(instrument.notes, key=lambda note: note.start)
    if len(notes) < 2:
        return 0.0
    return float(np.mean([b.start < a.end - 1e-3 for a, b in zip(notes, notes[1:])]))


def assign_parts(midi: pretty_midi.PrettyMIDI) -> Parts:
    """Group ``midi``'s instruments by stem (see the module doc)."""
    playing = [inst for inst in midi.instruments if len(inst.notes) >= MIN_PART_NOTES]
    drums = [inst for inst in playing if inst.is_drum]
    pitched = [inst for inst in playing if not inst.is_drum]
    bass = [inst for inst in pitched if inst.program in BASS_PROGRAMS]
    if not bass and pitched:
        lowest = min(pitched, key=_median_pitch)
        bass = [lowest] if _median_pitch(lowest) < LOW_PART_MEDIAN else []
    rest = [inst for inst in pitched if all(inst is not b for b in bass)]
    leads = [inst for inst in rest if _overlap(inst) <= MAX_LEAD_OVERLAP]
    if not leads:  # no monophonic part: the top line of the highest part in the vocal range
        leads = [inst for inst in rest if _median_pitch(inst) >= MIN_LEAD_MEDIAN]
    vocals = max(leads, key=_median_pitch) if leads else None
    other = [inst for inst in rest if inst is not vocals]
    return Parts(drums, bass, vocals, other)


def excerpt_starts(midi: pretty_midi.PrettyMIDI, parts: Parts, seconds: float, count: int, rng: np.random.Generator) -> list[float]:
    """Up to ``count`` non-overlapping excerpt starts (s) where at least :data:`MIN_ACTIVE_STEMS`
    stems play, windows where more stems play first, in time order."""
    end = midi.get_end_time()
    candidates = np.arange(0.0, max(end - seconds, 0.0) + 1e-9, seconds)
    groups = [parts.drums, parts.bass, [parts.vocals] if parts.vocals else [], parts.other]
    active = [sum(any(t <= n.start < t + seconds for inst in group for n in inst.notes) for group in groups) for t in candidates]
    order = sorted(range(len(candidates)), key=lambda i: (-active[i], rng.random()))
    return sorted(float(candidates[i]) for i in order[:count] if active[i] >= MIN_ACTIVE_STEMS)


def _window(instrument: pretty_midi.Instrument, start: float, seconds: float) -> pretty_midi.Instrument:
    """The notes of ``instrument`` that start in ``[start, start + seconds)``, shifted to 0."""
    out = pretty_midi.Instrument(program=instrument.program, is_drum=instrument.is_drum, name=instrument.name)
    for note in instrument.notes:
        if start <= note.start < start + seconds:
            end = min(note.end, start + seconds) - start
            out.notes.append(pretty_midi.Note(note.velocity, note.pitch, note.start - start, max(end, note.start - start + 0.02)))
    return out


def lead_notes(instrument: pretty_midi.Instrument, rng: np.random.Generator) -> list[Note]:
    """The lead part as a monophonic vocal line (the highest note wherever notes overlap), one
    vowel per note."""
    notes = sorted(instrument.notes, key=lambda note: (note.start, -note.pitch))
    line: list[pretty_midi.Note] = []
    for note in notes:
        if line and note.start < line[-1].end - 1e-3:
            if note.pitch <= line[-1].pitch:
                continue
            line[-1] = pretty_midi.Note(line[-1].velocity, line[-1].pitch, line[-1].start, note.start)
        line.append(note)
    return [
        Note(n.start, max(n.end - n.start, 0.05), n.pitch, n.velocity / 127, int(rng.integers(len(VOWELS))))
        for n in line
        if n.end - n.start > 0.01
    ]


def lead_note_count(parts: Parts, start: float, seconds: float) -> int:
    """How many notes the vocal line has in the excerpt at ``start``."""
    if parts.vocals is None:
        return 0
    return len(lead_notes(_window(parts.vocals, start, seconds), np.random.default_rng(0)))


def render_excerpt(
    parts: Parts,
    start: float,
    seconds: float,
    sample_rate: int,
    program: str,
    soundfont: Path,
    rng: np.random.Generator,
    drum_kit: Path | None = None,
    voice_clips: tuple[Path, ...] = (),
    voice_rng: np.random.Generator | None = None,
    vocal_production: VocalProduction = "dry",
    production_rng: np.random.Generator | None = None,
    sung_vowels: SungVowels = "stretched",
) -> dict[str, np.ndarray]:
    """One excerpt of ``parts`` -> unbalanced stems ``{stem: [2, n]}`` float32; the drums played by
    ``drum_kit`` (see :mod:`~tokensep_core.data.drum_kits`), or by ``soundfont``'s GM kit; the
    lead sung by the speech in ``voice_clips`` (its traits drawn from ``voice_rng``), or by the
    synthetic singer when there are none; with ``vocal_production`` "studio", the lead goes through
    a chain drawn from ``production_rng`` (:mod:`~tokensep_core.data.vocal_production`); a voice
    sings with ``sung_vowels`` (:func:`~tokensep_core.data.sung_speech.sing`)."""
    n = round(seconds * sample_rate)
    audio: dict[str, np.ndarray] = {}
    with tempfile.TemporaryDirectory(prefix="tokensep-midi-") as tmp:
        drums = [_window(inst, start, seconds) for inst in parts.drums]
        audio["drums"] = render_drum_stem(drums, drum_kit, soundfont, Path(tmp) / "drums", n, sample_rate, program)
        for stem, group in (("bass", parts.bass), ("other", parts.other)):
            midi = pretty_midi.PrettyMIDI()
            midi.instruments = [_window(inst, start, seconds) for inst in group]
            audio[stem] = fluidsynth_render(midi, Path(tmp) / stem, n, sample_rate, program, soundfont)
    vocals = np.zeros((2, n), np.float32)
    if parts.vocals is not None:
        notes = lead_notes(_window(parts.vocals, start, seconds), rng)
        mono = None
        if notes and voice_clips:
            mono = sing(notes, list(voice_clips), n, sample_rate, voice_rng if voice_rng is not None else rng, sung_vowels)
        elif notes:
            high = float(np.mean([note.pitch for note in notes])) > 62
            mono = render_vocals(notes, make_singer(rng, high), n, sample_rate, rng)
        if mono is not None:
            position = float(rng.uniform(-0.15, 0.15))
            if vocal_production == "studio":
                fx = production_rng if production_rng is not None else rng
                vocals = produce(mono, position, sample_rate, draw_chain(fx), fx).astype(np.float32)
            else:
                vocals = dsp.pan(mono, position).astype(np.float32)
    audio["vocals"] = vocals
    return {stem: audio[stem] for stem in STEMS}


def is_test_file(path: Path, test_fraction: float) -> bool:
    """A source file's split, from a hash of its name: every excerpt of a file lands in the same
    split, whatever other files are added."""
    digest = int(hashlib.sha256(path.name.encode()).hexdigest()[:8], 16)
    return digest / 0xFFFFFFFF < test_fraction


def read_midi(path: Path) -> pretty_midi.PrettyMIDI:
    try:
        with warnings.catch_warnings():  # tempo events on non-zero tracks (common in game MIDI): pretty_midi still reads them
            warnings.simplefilter("ignore", RuntimeWarning)
            return pretty_midi.PrettyMIDI(str(path))
    except Exception as err:  # mido/pretty_midi raise many types for a malformed file
        raise TokensepError(f"{path}: not a readable MIDI file ({err})") from None
