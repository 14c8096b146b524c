"""How sung the recorded voices of ``data midi`` sound, by proxy: the same melodic lines sung with
``held`` vowels and with ``stretched`` ones (:mod:`tokensep_core.data.sung_speech`), from the
clips a corpus's manifest gave its songs, and per note the spectrum's steadiness (median change of
24 log band energies from one 10-ms frame to the next, dB) and Praat's harmonics-to-noise ratio.
A held vowel keeps its formants still and its voice periodic through the note, as singing does;
a whole word stretched alike drags its consonants and glides across the note.

    .venv/bin/python scripts/sung_vowels.py CORPUS [--songs N] [--seed S] [--plot PNG]

CORPUS is a folder written by ``tokensep data corpus`` or ``data midi`` with voices
(``manifest.csv`` names each song's voice folder and clips). Each of the first ``--songs`` songs
with a voice sings one random line of 16 notes (0.25, 0.5 or 1 s long, a scale's steps apart),
the same notes and random draws in both modes. Also the dip in level where one note runs into
the next (a held line crossfades there; a stretched one falls silent), and the share of note time
that is silent (Praat's PSOLA lengthens at most 3×, so a stretched note longer than three times
its syllable stops short; a held one is lengthened in passes). Prints per-song medians
over the notes (joins), their means, the paired per-song differences (held minus stretched) and
how many songs moved which way. ``--plot`` draws the first song's line sung both ways as
spectrograms, its notes marked.
"""

from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

import numpy as np
import parselmouth

from tokensep_core.data.score import Note
from tokensep_core.data.sung_speech import LEGATO_GAP, VOWELS, sing

RATE = 44100
HOP = 0.01
BANDS = np.geomspace(100.0, 8000.0, 25)  # Hz, edges of the steadiness bands
EDGE = 0.05  # s left out at each end of a note (onset consonant, fade)
SCALE = (0, 2, 4, 5, 7, 9, 11)


def random_line(rng: np.random.Generator) -> list[Note]:
    """16 notes around MIDI 57: durations 0.25 / 0.5 / 1 s, 0–80-ms gaps, scale steps apart."""
    notes, t, degree = [], 0.1, int(rng.integers(7, 14))
    for _ in range(16):
        duration = float(rng.choice([0.25, 0.5, 1.0], p=[0.4, 0.4, 0.2]))
        degree = int(np.clip(degree + rng.integers(-2, 3), 0, 20))
        notes.append(Note(t, duration, 45 + 12 * (degree // 7) + SCALE[degree % 7], 0.8))
        t += duration + float(rng.choice([0.0, 0.04, 0.08]))
    return notes


def note_measures(audio: np.ndarray, notes: list[Note]) -> tuple[np.ndarray, np.ndarray]:
    """Per note: median spectral change (dB per 10-ms frame) and median HNR (dB) over its middle
    -> two ``[N]``."""
    hop, size = int(HOP * RATE), int(2 * HOP * RATE)
    freqs = np.fft.rfftfreq(size, 1 / RATE)
    band_of = np.digitize(freqs, BANDS) - 1
    harmonicity = parselmouth.Sound(audio.astype(float), sampling_frequency=RATE).to_harmonicity(time_step=HOP)
    hnr_times, hnr = harmonicity.xs(), harmonicity.values[0]
    flux, periodic = [], []
    for note in notes:
        a, b = int((note.start + EDGE) * RATE), int((note.start + note.duration - EDGE) * RATE)
        frames = np.stack([audio[k : k + size] * np.hanning(size) for k in range(a, b - size, hop)])
        power = np.abs(np.fft.rfft(frames, axis=1)) ** 2
        bands = np.stack([power[:, band_of == k].sum(axis=1) for k in range(len(BANDS) - 1)], axis=1)
        db = 10 * np.log10(bands + 1e-10)
        flux.append(float(np.median(np.abs(np.diff(db, axis=0)).mean(axis=1))))
        inside = (hnr_times > note.start + EDGE) & (hnr_times < note.start + note.duration - EDGE) & (hnr > -100)
        periodic.append(float(np.median(hnr[inside])) if inside.any() else float("nan"))
    return np.array(flux), np.array(periodic)


def silent_in_notes(audio: np.ndarray, notes: list[Note]) -> float:
    """Share of the notes' 10-ms frames (from 20 ms after each onset to 40 ms before its end) more
    than 50 dB below the line's loudest frame: a note that stops short shows here."""
    size = int(HOP * RATE)
    frames = audio[: len(audio) // size * size].reshape(-1, size).astype(float)
    db = 10 * np.log10(np.mean(frames**2, axis=1) + 1e-20)
    inside = np.concatenate([np.arange(int((n.start + 0.02) / HOP), int((n.start + n.duration - 0.04) / HOP)) for n in notes])
    return float(np.mean(db[inside] < db.max() - 50))


def join_dips(audio: np.ndarray, notes: list[Note]) -> np.ndarray:
    """Per join of two notes at most :data:`~tokensep_core.data.sung_speech.LEGATO_GAP` apart:
    the quietest 5-ms frame within 40 ms of the join, in dB against the two notes' median frame
    -> ``[J]`` (floored at -80 dB)."""
    size = int(0.005 * RATE)
    frames = audio[: len(audio) // size * size].reshape(-1, size)
    rms = np.sqrt(np.mean(frames.astype(float) ** 2, axis=1)) + 1e-12
    dips = []
    for note, following in zip(notes, notes[1:]):
        end = note.start + note.duration
        if following.start - end > LEGATO_GAP:
            continue
        around = rms[int((end - 0.04) * RATE) // size : int((following.start + 0.04) * RATE) // size]
        level = np.median(rms[int(note.start * RATE) // size : int((following.start + following.duration) * RATE) // size])
        dips.append(max(-80.0, 20 * np.log10(around.min() / level)))
    return np.array(dips)


def voice_folder(label: str, folders: list[Path]) -> Path:
    """The folder of ``midi.json``'s voices that the manifest's ``label`` names (``data corpus``
    labels a voice by its package, a path component of the folder; ``data midi`` by its name)."""
    found = [f for f in folders if f.name == label or label in f.parts]
    if len(found) != 1:
        raise SystemExit(f"sung_vowels: voice {label!r} matches {len(found)} of midi.json's voice folders")
    return found[0]


def voiced_songs(corpus: Path, songs: int) -> list[tuple[str, list[Path]]]:
    """(song, its voice clips) for the first ``songs`` songs of the manifest with a recorded voice."""
    folders = [Path(p) for p in json.loads((corpus / "midi.json").read_text()).get("voices", [])]
    with (corpus / "manifest.csv").open(newline="") as f:
        rows = [r for r in csv.DictReader(f) if r.get("voice_clips")]
    if not rows:
        raise SystemExit(f"sung_vowels: {corpus / 'manifest.csv'} names no song with a recorded voice")
    return [(r["song"], [voice_folder(r["voice"], folders) / c for c in r["voice_clips"].split(";")]) for r in rows[:songs]]


def plot_line(path: Path, renders: dict[str, np.ndarray], notes: list[Note], title: str) -> None:
    """Spectrograms (0-5 kHz, first 4 s) of one line sung each way, note spans marked -> ``path``."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(len(renders), 1, figsize=(10, 3 * len(renders)), sharex=True)
    for ax, (mode, audio) in zip(axes, renders.items()):
        ax.specgram(audio[: 4 * RATE], NFFT=1024, Fs=RATE, noverlap=768, cmap="magma", vmin=-120)
        for note in notes:
            if note.start < 4:
                ax.axvspan(note.start, note.start + note.duration, ymin=0.97, ymax=1.0, color="cyan")
        ax.set(ylim=(0, 5000), ylabel="Hz", title=f"{title}: {mode} vowels")
    axes[-1].set_xlabel("s (cyan: the notes)")
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=90)
    plt.close(fig)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("corpus", type=Path)
    parser.add_argument("--songs", type=int, default=24)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--plot", type=Path, help="PNG of the first song's line sung both ways")
    args = parser.parse_args(argv)
    results: dict[str, list[tuple[float, float, float, float]]] = {mode: [] for mode in VOWELS}
    for k, (song, clips) in enumerate(voiced_songs(args.corpus, args.songs)):
        notes = random_line(np.random.default_rng([args.seed, k]))
        n = int((notes[-1].start + notes[-1].duration + 0.2) * RATE)
        renders = {}
        for mode in VOWELS:
            audio = renders[mode] = sing(notes, clips, n, RATE, np.random.default_rng([args.seed, k, 1]), vowels=mode)
            flux, hnr = note_measures(audio, notes)
            dips = float(np.median(join_dips(audio, notes)))
            results[mode].append((float(np.median(flux)), float(np.nanmedian(hnr)), dips, silent_in_notes(audio, notes)))
        if k == 0 and args.plot:
            plot_line(args.plot, renders, notes, song)
        print(f"{song}: " + "  ".join(f"{m} " + " / ".join(f"{v:.2f}" for v in results[m][-1]) for m in VOWELS), flush=True)
    held, stretched = np.array(results["held"]), np.array(results["stretched"])
    diff = held - stretched
    print(f"\n{len(diff)} songs, one 16-note line each (seed {args.seed}); per song, the median over its notes")
    print(
        "| vowels | spectral change, dB / 10 ms (lower: steadier) | HNR, dB (higher: more periodic) "
        "| dip at legato joins, dB | silent share of note time |"
    )
    print("|---|---|---|---|---|")
    for mode, values in (("held", held), ("stretched", stretched)):
        print(
            f"| {mode} | {np.mean(values[:, 0]):.2f} | {np.mean(values[:, 1]):.1f} | {np.mean(values[:, 2]):.1f} | {np.mean(values[:, 3]):.3f} |"
        )
    print(
        f"| held − stretched | {np.mean(diff[:, 0]):+.2f} (steadier in {int(np.sum(diff[:, 0] < 0))}/{len(diff)}) "
        f"| {np.mean(diff[:, 1]):+.1f} (higher in {int(np.sum(diff[:, 1] > 0))}/{len(diff)}) "
        f"| {np.mean(diff[:, 2]):+.1f} (shallower in {int(np.sum(diff[:, 2] > 0))}/{len(diff)}) "
        f"| {np.mean(diff[:, 3]):+.3f} (less in {int(np.sum(diff[:, 3] < 0))}/{len(diff)}) |"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
