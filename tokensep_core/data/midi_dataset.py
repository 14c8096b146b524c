"""``tokensep data midi``: excerpts of MIDI compositions rendered into the MUSDB18-HQ layout.

``OUT/{train,test}/{file}_{k}/{mixture,vocals,drums,bass,other}.wav`` (32-bit float stereo, the
mixture the exact sum of the stems, written atomically like ``data synth``), ``OUT/midi.json``
(the settings: a re-run with other settings is refused) and ``OUT/manifest.csv`` (each song's
source file, excerpt start, soundfont and drum kit). With ``drum_kits`` (recorded kits, see
:mod:`~tokensep_core.data.drum_kits`), each song draws its drum kit from them and its soundfont's
GM kit, from a random stream of its own: the excerpts, soundfonts and mixing are those of the same
run without kits. A source file's excerpts all go to one split, chosen
from its name (:func:`midi_songs.is_test_file`), so no composition is in both splits.
"""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tqdm import tqdm

from tokensep_core.audio.io import atomic_path
from tokensep_core.data import midi_songs
from tokensep_core.data.drum_kits import kit_label, usable_drum_kits
from tokensep_core.data.mixing import fit_headroom, mix
from tokensep_core.data.soundfont import INSTALL_HINT, SoundfontRenderer, mix_levels
from tokensep_core.data.writer import AudioFormat, is_complete, record_settings, run_jobs, write_song_folder
from tokensep_core.errors import TokensepError

SETTINGS_FILE = "midi.json"
MANIFEST_FILE = "manifest.csv"
MIDI_SUFFIXES = (".mid", ".midi")
DRUM_KIT_STREAM = 1  # the drum kits' random stream, apart from the excerpts' and soundfonts'


@dataclass(frozen=True)
class MidiSong:
    """One planned excerpt."""

    name: str
    split: str
    source: Path
    start: float
    soundfont: Path
    seed: int
    drum_kit: Path | None = None  # None: the soundfont's GM kit


@dataclass(frozen=True)
class MidiSummary:
    written: int
    skipped: int
    files: int
    splits: dict[str, int]


def find_midi_files(sources: list[str | Path]) -> list[Path]:
    """MIDI files named directly or found under folders (recursively), sorted, without duplicates."""
    found: set[Path] = set()
    for source in map(Path, sources):
        if source.is_dir():
            found.update(p.resolve() for p in source.rglob("*") if p.is_file() and p.suffix.lower() in MIDI_SUFFIXES)
        elif source.is_file():
            found.add(source.resolve())
        else:
            raise TokensepError(f"{source}: no such file or folder")
    if not found:
        raise TokensepError(f"no MIDI files (*.mid, *.midi) in {', '.join(map(str, sources))}")
    return sorted(found)


def plan_midi_songs(
    files: list[Path],
    seconds: float,
    excerpts: int,
    soundfonts: list[Path],
    test_fraction: float,
    seed: int,
    drum_kits: list[Path] | None = None,
) -> list[MidiSong]:
    """Excerpts of every file (see :func:`midi_songs.excerpt_starts`), each with a soundfont, a
    drum kit (one of ``drum_kits`` or None, the soundfont's own) and a seed drawn from the dataset
    seed and the file's name."""
    kits: list[Path | None] = [None, *(drum_kits or [])]
    songs = []
    names: dict[str, Path] = {}
    for path in files:
        if path.stem in names:
            raise TokensepError(f"two MIDI files named {path.stem}: {names[path.stem]} and {path}; song names must be unique")
        names[path.stem] = path
        file_hash = int(hashlib.sha256(path.name.encode()).hexdigest()[:16], 16)
        rng = np.random.default_rng(np.random.SeedSequence([seed, file_hash]))
        kit_rng = np.random.default_rng(np.random.SeedSequence([seed, file_hash, DRUM_KIT_STREAM]))
        midi = midi_songs.read_midi(path)
        parts = midi_songs.assign_parts(midi)
        split = "test" if midi_songs.is_test_file(path, test_fraction) else "train"
        for k, start in enumerate(midi_songs.excerpt_starts(midi, parts, seconds, excerpts, rng)):
            soundfont = soundfonts[int(rng.integers(len(soundfonts)))]
            kit = kits[int(kit_rng.integers(len(kits)))] if len(kits) > 1 else None
            songs.append(MidiSong(f"{path.stem}_{k:02d}", split, path, start, soundfont, int(rng.integers(2**62)), kit))
    return songs


def render_midi_song(song: MidiSong, seconds: float, sample_rate: int, program: str, folder: Path, audio_format: AudioFormat) -> None:
    """Render one planned excerpt and write its song folder."""
    rng = np.random.default_rng(song.seed)
    parts = midi_songs.assign_parts(midi_songs.read_midi(song.source))
    stems = midi_songs.render_excerpt(parts, song.start, seconds, sample_rate, program, song.soundfont, rng, song.drum_kit)
    balanced = fit_headroom(mix_levels(stems, rng))
    write_song_folder(folder, {"mixture": mix(balanced), **balanced}, sample_rate, audio_format)


def write_midi_dataset(
    out: str | Path,
    sources: list[str | Path],
    seconds: float = 10.0,
    sample_rate: int = 44100,
    excerpts: int = 4,
    soundfonts: list[str | Path] | None = None,
    drum_kits: list[str | Path] | None = None,
    test_fraction: float = 0.1,
    seed: int = 0,
    workers: int = 1,
    progress: bool = True,
    audio_format: AudioFormat = "wav",
) -> MidiSummary:
    """Render up to ``excerpts`` excerpts of ``seconds`` from every MIDI file under ``sources``
    into ``out`` (see the module doc); complete songs are skipped, so a re-run resumes."""
    if seconds <= 0 or sample_rate <= 0 or excerpts < 1 or workers < 1 or not 0.0 <= test_fraction <= 1.0:
        raise TokensepError(
            f"data midi: need seconds > 0, sample rate > 0, excerpts >= 1, workers >= 1, 0 <= test fraction <= 1 "
            f"(got {seconds}, {sample_rate}, {excerpts}, {workers}, {test_fraction})"
        )
    program = shutil.which("fluidsynth")
    if program is None:
        raise TokensepError(f"data midi: the fluidsynth program is not installed; {INSTALL_HINT}")
    fonts = [Path(f).resolve() for f in soundfonts] if soundfonts else [SoundfontRenderer.default_soundfont()]
    for font in fonts:
        if not font.is_file():
            raise TokensepError(f"data midi: soundfont {font} not found")
    kits = usable_drum_kits(drum_kits or [])
    files = find_midi_files(sources)
    out = Path(out)
    plan = plan_midi_songs(files, seconds, excerpts, fonts, test_fraction, seed, kits)
    record_settings(
        out,
        SETTINGS_FILE,
        {
            "sources": [str(f) for f in files],
            "seconds": seconds,
            "sample_rate": sample_rate,
            "excerpts": excerpts,
            "soundfonts": [str(f) for f in fonts],
            "drum_kits": [str(k) for k in kits],
            "test_fraction": test_fraction,
            "seed": seed,
            "format": audio_format,
        },
        defining=_with_default_format,
    )
    todo = [song for song in plan if not is_complete(out / song.split / song.name, audio_format)]
    jobs = [(song, seconds, sample_rate, program, out / song.split / song.name, audio_format) for song in todo]
    for _ in tqdm(run_jobs(render_midi_song, jobs, workers), total=len(jobs), desc="midi", unit="song", disable=not progress):
        pass
    _write_manifest(out / MANIFEST_FILE, plan)
    splits = {split: sum(s.split == split for s in plan) for split in ("train", "test")}
    return MidiSummary(len(todo), len(plan) - len(todo), len(files), splits)


def _with_default_format(settings: dict) -> dict:
    """Settings recorded before the format and drum-kit options were float WAV, without kits."""
    return {"format": "wav", "drum_kits": [], **settings}


def _write_manifest(path: Path, plan: list[MidiSong]) -> None:
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["song", "split", "source", "start_seconds", "soundfont", "drum_kit"])
    for song in plan:
        kit = kit_label(song.drum_kit, song.soundfont)
        writer.writerow([song.name, song.split, str(song.source), f"{song.start:.3f}", song.soundfont.name, kit])
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text.getvalue())
