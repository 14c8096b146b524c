"""Procedural song composition shared by the renderers: tempo, meter, key, chords and the notes
of the four stems, as a :class:`Score` that a synthesizer or a MIDI writer turns into audio."""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import numpy as np

DRUM_PIECES: tuple[str, ...] = ("kick", "snare", "closed_hat", "open_hat", "tom_high", "tom_mid", "tom_low", "crash")
VOWELS: tuple[str, ...] = ("a", "e", "i", "o", "u")
OTHER_STYLES: tuple[str, ...] = ("pad", "keys", "pluck")

MAJOR = (0, 2, 4, 5, 7, 9, 11)
MINOR = (0, 2, 3, 5, 7, 8, 10)
# (beats per bar, grid steps per beat): 4/4 in 16ths, 3/4 in 8ths, 12/8, 6/8, 4/4 in 8ths
METERS: tuple[tuple[int, int], ...] = ((4, 4), (4, 4), (4, 2), (3, 2), (4, 3), (2, 3))
# chord progressions as 0-based scale degrees, one chord per bar
PROGRESSIONS: tuple[tuple[int, ...], ...] = (
    (0, 4, 5, 3),
    (0, 5, 3, 4),
    (5, 3, 0, 4),
    (0, 3, 4, 3),
    (0, 0, 3, 4),
    (0, 6, 5, 4),
    (0, 3, 0, 4),
)


@dataclass(frozen=True)
class Note:
    """A pitched note; ``vowel`` indexes :data:`VOWELS` (vocals only)."""

    start: float
    duration: float
    pitch: int
    velocity: float
    vowel: int = 0


@dataclass(frozen=True)
class DrumHit:
    """One hit of a drum-kit piece (see :data:`DRUM_PIECES`)."""

    start: float
    piece: str
    velocity: float


@dataclass
class Score:
    """Everything a renderer needs to play one song; times in seconds."""

    seconds: float
    tempo: float
    beats_per_bar: int
    steps_per_beat: int
    root: int
    minor: bool
    other_style: str
    drums: list[DrumHit] = field(default_factory=list)
    bass: list[Note] = field(default_factory=list)
    other: list[Note] = field(default_factory=list)
    vocals: list[Note] = field(default_factory=list)

    @property
    def beat(self) -> float:
        return 60.0 / self.tempo

    @property
    def step(self) -> float:
        return self.beat / self.steps_per_beat


def compose(rng: np.random.Generator, seconds: float, tempo_range: tuple[float, float] = (70.0, 160.0)) -> Score:
    """A random song of ``seconds``: every stem starts within the first bar."""
    beats_per_bar, steps_per_beat = METERS[rng.integers(len(METERS))]
    tempo = float(rng.uniform(*tempo_range))
    if steps_per_beat == 3:  # compound meters: the beat is a dotted quarter, keep it slower
        tempo = float(np.clip(tempo * 0.6, 50.0, 110.0))
    score = Score(
        seconds=seconds,
        tempo=tempo,
        beats_per_bar=beats_per_bar,
        steps_per_beat=steps_per_beat,
        root=int(rng.integers(12)),
        minor=bool(rng.random() < 0.45),
        other_style=OTHER_STYLES[rng.integers(len(OTHER_STYLES))],
    )
    bars = math.ceil(seconds / (score.beat * beats_per_bar)) + 1
    chords = _chords(rng, score, bars)
    score.drums = _drums(rng, score, bars)
    score.bass = _bass(rng, score, chords)
    score.other = _other(rng, score, chords)
    score.vocals = _vocals(rng, score, chords)
    return score


def _scale(score: Score) -> tuple[int, ...]:
    return MINOR if score.minor else MAJOR


def _chords(rng: np.random.Generator, score: Score, bars: int) -> list[tuple[int, ...]]:
    """Pitch classes (root first) of the chord of each bar."""
    scale = _scale(score)
    progression = PROGRESSIONS[rng.integers(len(PROGRESSIONS))]
    sevenths = rng.random() < 0.3
    chords = []
    for bar in range(bars):
        degree = progression[bar % len(progression)]
        size = 4 if sevenths else 3
        chords.append(tuple((score.root + scale[(degree + 2 * i) % 7]) % 12 for i in range(size)))
    return chords


def _humanize(rng: np.random.Generator, t: float, amount: float = 0.004) -> float:
    return max(0.0, t + float(rng.normal(0.0, amount)))


def _drums(rng: np.random.Generator, score: Score, bars: int) -> list[DrumHit]:
    steps = score.beats_per_bar * score.steps_per_beat
    spb = score.steps_per_beat
    kick = np.zeros(steps, bool)
    kick[0] = True
    if score.beats_per_bar == 4:
        kick[2 * spb] = rng.random() < 0.8
    kick |= rng.random(steps) < 0.12
    snare = np.zeros(steps, bool)
    backbeats = {4: (1, 3), 3: (2,), 2: (1,)}[score.beats_per_bar]
    snare[[b * spb for b in backbeats]] = True
    hat_every = int(rng.choice([1, 2])) if spb in (2, 4) else 1
    if spb == 4:
        hat_every = 2 if rng.random() < 0.6 else 1
    open_hat_step = int(rng.integers(steps)) if rng.random() < 0.5 else -1
    ride_like = rng.random() < 0.2  # hats only on beats
    hits: list[DrumHit] = []
    for bar in range(bars):
        bar_start = bar * score.beat * score.beats_per_bar
        fill = bar % 4 == 3 and rng.random() < 0.7
        fill_from = steps - spb * int(rng.integers(1, 3)) if fill else steps
        if bar % 4 == 0:
            hits.append(DrumHit(bar_start, "crash", float(rng.uniform(0.6, 0.9))))
        for s in range(steps):
            t = _humanize(rng, bar_start + s * score.step)
            accent = 1.0 if s % spb == 0 else 0.75
            if s >= fill_from:
                if rng.random() < 0.8:
                    piece = ("tom_high", "tom_mid", "tom_low")[min(2, 3 * (s - fill_from) // max(1, steps - fill_from))]
                    hits.append(DrumHit(t, piece, float(rng.uniform(0.6, 1.0))))
                continue
            if kick[s] or (rng.random() < 0.04):
                hits.append(DrumHit(t, "kick", float(rng.uniform(0.8, 1.0)) * accent))
            if snare[s]:
                hits.append(DrumHit(t, "snare", float(rng.uniform(0.8, 1.0))))
            elif rng.random() < 0.05:
                hits.append(DrumHit(t, "snare", float(rng.uniform(0.15, 0.35))))  # ghost note
            if s == open_hat_step:
                hits.append(DrumHit(t, "open_hat", float(rng.uniform(0.5, 0.8))))
            elif (s % (spb if ride_like else hat_every)) == 0:
                hits.append(DrumHit(t, "closed_hat", float(rng.uniform(0.35, 0.6)) * (1.0 if s % spb == 0 else 0.7)))
    return [h for h in hits if h.start < score.seconds]


def _in_range(pitch_class: int, low: int, high: int, rng: np.random.Generator) -> int:
    """A pitch of ``pitch_class`` in ``[low, high]`` (random octave when several fit)."""
    options = [p for p in range(low, high + 1) if p % 12 == pitch_class]
    return int(options[rng.integers(len(options))])


def _bass(rng: np.random.Generator, score: Score, chords: list[tuple[int, ...]]) -> list[Note]:
    steps = score.beats_per_bar * score.steps_per_beat
    spb = score.steps_per_beat
    pattern = rng.random(steps) < rng.uniform(0.15, 0.45)
    pattern[0] = True
    pattern[::spb] |= rng.random() < 0.5  # sometimes every beat
    starts = np.flatnonzero(pattern)
    legato = float(rng.uniform(0.5, 0.95))
    base = _in_range(score.root, 28, 39, rng)
    notes = []
    for bar, chord in enumerate(chords):
        bar_start = bar * score.beat * score.beats_per_bar
        root = base + (chord[0] - base) % 12
        if root > 43:
            root -= 12
        for i, s in enumerate(starts):
            nxt = starts[i + 1] if i + 1 < len(starts) else steps
            choice = rng.random()
            pitch = root + (7 if choice < 0.15 else 12 if choice < 0.25 else 0)
            t = _humanize(rng, bar_start + s * score.step)
            notes.append(Note(t, (nxt - s) * score.step * legato, int(pitch), float(rng.uniform(0.7, 1.0))))
    return [n for n in notes if n.start < score.seconds]


def _voicing(chord: tuple[int, ...], low: int, high: int) -> list[int]:
    """Close voicing of ``chord`` starting at the lowest root in ``[low, high)``."""
    root = next(p for p in range(low, high) if p % 12 == chord[0])
    pitches, last = [root], root
    for pc in chord[1:]:
        last = last + (pc - last) % 12
        pitches.append(last)
    return pitches


def _other(rng: np.random.Generator, score: Score, chords: list[tuple[int, ...]]) -> list[Note]:
    bar_len = score.beat * score.beats_per_bar
    steps = score.beats_per_bar * score.steps_per_beat
    low = int(rng.integers(50, 60))
    notes = []
    if score.other_style == "pad":
        for bar, chord in enumerate(chords):
            for p in _voicing(chord, low, low + 12):
                notes.append(Note(bar * bar_len, bar_len * 0.98, p, float(rng.uniform(0.5, 0.7))))
    elif score.other_style == "keys":
        hits = np.flatnonzero(rng.random(steps) < 0.3)
        hits = np.union1d(hits, [0])
        for bar, chord in enumerate(chords):
            for i, s in enumerate(hits):
                nxt = hits[i + 1] if i + 1 < len(hits) else steps
                t = _humanize(rng, bar * bar_len + s * score.step)
                for p in _voicing(chord, low, low + 12):
                    notes.append(Note(t, (nxt - s) * score.step * 0.9, p, float(rng.uniform(0.55, 0.85))))
    else:  # pluck: arpeggio over the grid
        every = max(1, score.steps_per_beat // 2)
        direction = rng.choice([1, -1])
        for bar, chord in enumerate(chords):
            voicing = _voicing(chord, low, low + 12)
            voicing = voicing + [p + 12 for p in voicing]
            for k, s in enumerate(range(0, steps, every)):
                p = voicing[(k * direction) % len(voicing)]
                t = _humanize(rng, bar * bar_len + s * score.step)
                notes.append(Note(t, every * score.step * 0.9, p, float(rng.uniform(0.5, 0.9))))
    return [n for n in notes if n.start < score.seconds]


def _vocals(rng: np.random.Generator, score: Score, chords: list[tuple[int, ...]]) -> list[Note]:
    """Phrases of stepwise melody (chord tones on beats), separated by rests."""
    low, high = (48, 67) if rng.random() < 0.5 else (57, 77)
    scale = _scale(score)
    degrees = [p for p in range(low, high + 1) if (p - score.root) % 12 in scale]
    bar_len = score.beat * score.beats_per_bar
    t = score.step * int(rng.integers(0, score.steps_per_beat + 1))
    index = len(degrees) // 2
    notes = []
    while t < score.seconds:
        phrase_end = t + bar_len * float(rng.choice([1.0, 1.5, 2.0, 3.0]))
        while t < phrase_end and t < score.seconds:
            length = (
                score.step * int(rng.choice([1, 2, 2, 3, 4, 4, 6, 8]))
                if score.steps_per_beat != 3
                else score.step * int(rng.choice([1, 2, 3, 3, 6]))
            )
            index = int(np.clip(index + rng.choice([-2, -1, -1, 0, 1, 1, 2]), 0, len(degrees) - 1))
            on_beat = abs((t / score.beat) - round(t / score.beat)) < 1e-6
            chord = chords[min(int(t // bar_len), len(chords) - 1)]
            if on_beat and degrees[index] % 12 not in chord:
                near = [i for i in range(max(0, index - 2), min(len(degrees), index + 3)) if degrees[i] % 12 in chord]
                index = near[0] if near else index
            notes.append(
                Note(
                    t, length * float(rng.uniform(0.85, 1.0)), degrees[index], float(rng.uniform(0.65, 1.0)), int(rng.integers(len(VOWELS)))
                )
            )
            t += length
        t += score.beat * int(rng.integers(1, 2 * score.beats_per_bar))  # rest
    return notes
