"""``tokensep data midi``: excerpts of MIDI compositions rendered into the MUSDB18-HQ layout.

``OUT/{train,test}/{file}_{k}/{mixture,vocals,drums,bass,other}.wav`` (32-bit float stereo, the
mixture the exact sum of the stems, written atomically like ``data synth``), ``OUT/midi.json``
(the settings: a re-run with other settings is refused) and ``OUT/manifest.csv`` (each song's
source file, excerpt start, soundfont, drum kit and voice). With ``drum_kits`` (recorded kits, see
:mod:`~tokensep_core.data.drum_kits`), each song draws its drum kit from them and its soundfont's
GM kit, from a random stream of its own: the excerpts, soundfonts and mixing are those of the same
run without kits. With ``voices`` (folders of recorded speech, see
:mod:`~tokensep_core.data.sung_speech`), each song draws, from another stream of its own, the
synthetic singer or one voice and that voice's clips (one per lead note, at most
:data:`CLIPS_PER_SONG`); the plan is otherwise that of the same run without voices, and the songs
the synthetic singer sings are the same. With ``vocal_production`` "studio" (the default) the lead
goes through a vocal chain drawn from a fourth stream (:mod:`~tokensep_core.data.vocal_production`):
only the vocal stem and the song's balance change. A source file's excerpts all go to one split, chosen
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
from tokensep_core.data.mixing import STEM_GAIN_RANGES_DB, fit_headroom, mix, mix_levels
from tokensep_core.data.soundfont import INSTALL_HINT, SoundfontRenderer
from tokensep_core.data.sung_speech import VOWELS, SungVowels
from tokensep_core.data.vocal_production import VOCAL_PRODUCTIONS, VocalProduction
from tokensep_core.data.voice_sources import clip_rate, read_voice_folder, usable_voices, voice_label
from tokensep_core.data.writer import AudioFormat, is_complete, record_settings, run_jobs, write_song_folder
from tokensep_core.errors import TokensepError

SETTINGS_FILE = "midi.json"
MANIFEST_FILE = "manifest.csv"
MIDI_SUFFIXES = (".mid", ".midi")
DRUM_KIT_STREAM = 1  # the drum kits' random stream, apart from the excerpts' and soundfonts'
VOICE_STREAM = 2  # the voices' (plan: voice and clips; render: singing style)
PRODUCTION_STREAM = 3  # the vocal chain's (render only)
CLIPS_PER_SONG = 8


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
    voice: Path | None = None  # None: the synthetic singer
    voice_clips: tuple[Path, ...] = ()


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
    voices: list[Path] | None = None,
) -> list[MidiSong]:
    """Excerpts of every file (see :func:`midi_songs.excerpt_starts`), each with a soundfont, a
    drum kit (one of ``drum_kits`` or None, the soundfont's own), a voice (one of ``voices`` and
    its clips, or None, the synthetic singer) and a seed drawn from the dataset seed and the
    file's name."""
    kits: list[Path | None] = [None, *(drum_kits or [])]
    singers: list[Path | None] = [None, *(voices or [])]
    songs = []
    names: dict[str, Path] = {}
    for path in files:
        if path.stem in names:
            raise TokensepError(f"two MIDI files named {path.stem}: {names[path.stem]} and {path}; song names must be unique")
        names[path.stem] = path
        file_hash = int(hashlib.sha256(path.name.encode()).hexdigest()[:16], 16)
        rng = np.random.default_rng(np.random.SeedSequence([seed, file_hash]))
        kit_rng = np.random.default_rng(np.random.SeedSequence([seed, file_hash, DRUM_KIT_STREAM]))
        voice_rng = np.random.default_rng(np.random.SeedSequence([seed, file_hash, VOICE_STREAM]))
        midi = midi_songs.read_midi(path)
        parts = midi_songs.assign_parts(midi)
        split = "test" if midi_songs.is_test_file(path, test_fraction) else "train"
        for k, start in enumerate(midi_songs.excerpt_starts(midi, parts, seconds, excerpts, rng)):
            soundfont = soundfonts[int(rng.integers(len(soundfonts)))]
            kit = kits[int(kit_rng.integers(len(kits)))] if len(kits) > 1 else None
            voice, clips = _draw_voice(singers, midi_songs.lead_note_count(parts, start, seconds), voice_rng)
            songs.append(MidiSong(f"{path.stem}_{k:02d}", split, path, start, soundfont, int(rng.integers(2**62)), kit, voice, clips))
    return songs


def _draw_voice(singers: list[Path | None], notes: int, rng: np.random.Generator) -> tuple[Path | None, tuple[Path, ...]]:
    """A song's voice (uniform over ``singers``) and, for a recorded one, its clips: one per note,
    at most :data:`CLIPS_PER_SONG`, without repeats."""
    if len(singers) < 2:
        return None, ()
    voice = singers[int(rng.integers(len(singers)))]
    if voice is None or notes == 0:
        return voice, ()
    clips = read_voice_folder(voice).clips
    picks = rng.choice(len(clips), size=min(notes, CLIPS_PER_SONG, len(clips)), replace=False)
    return voice, tuple(clips[int(i)] for i in picks)


def render_midi_song(
    song: MidiSong,
    seconds: float,
    sample_rate: int,
    program: str,
    folder: Path,
    audio_format: AudioFormat,
    vocal_production: VocalProduction = "studio",
    sung_vowels: SungVowels = "held",
    vocal_gain_db: tuple[float, float] = STEM_GAIN_RANGES_DB["vocals"],
) -> None:
    """Render one planned excerpt and write its song folder."""
    rng = np.random.default_rng(song.seed)
    parts = midi_songs.assign_parts(midi_songs.read_midi(song.source))
    voice_rng = np.random.default_rng(np.random.SeedSequence([song.seed, VOICE_STREAM]))
    production_rng = np.random.default_rng(np.random.SeedSequence([song.seed, PRODUCTION_STREAM]))
    stems = midi_songs.render_excerpt(
        parts,
        song.start,
        seconds,
        sample_rate,
        program,
        song.soundfont,
        rng,
        song.drum_kit,
        song.voice_clips,
        voice_rng,
        vocal_production,
        production_rng,
        sung_vowels,
    )
    gain_ranges = {**STEM_GAIN_RANGES_DB, "vocals": tuple(vocal_gain_db)}
    balanced = fit_headroom(mix_levels(stems, rng, gain_ranges_db=gain_ranges))
    write_song_folder(folder, {"mixture": mix(balanced), **balanced}, sample_rate, audio_format)


def check_render_options(
    seconds: float,
    sample_rate: int,
    excerpts: int,
    workers: int,
    test_fraction: float,
    vocal_production: str,
    sung_vowels: str,
    vocal_gain_db: tuple[float, float],
) -> None:
    """Refuse, in one line, settings no song can be rendered with (before anything is fetched or written)."""
    low, high = vocal_gain_db
    if not (np.isfinite(low) and np.isfinite(high) and low <= high):
        raise TokensepError(f"data midi: vocal gain range {low:g} {high:g} dB needs two finite numbers, the lower first")
    if vocal_production not in VOCAL_PRODUCTIONS:
        raise TokensepError(f"data midi: vocal production {vocal_production!r} is not one of {', '.join(VOCAL_PRODUCTIONS)}")
    if sung_vowels not in VOWELS:
        raise TokensepError(f"data midi: sung vowels {sung_vowels!r} is not one of {', '.join(VOWELS)}")
    if seconds <= 0 or sample_rate <= 0 or excerpts < 1 or workers < 1 or not 0.0 <= test_fraction <= 1.0:
        raise TokensepError(
            f"data midi: need seconds > 0, sample rate > 0, excerpts >= 1, workers >= 1, 0 <= test fraction <= 1 "
            f"(got {seconds}, {sample_rate}, {excerpts}, {workers}, {test_fraction})"
        )


def write_midi_dataset(
    out: str | Path,
    sources: list[str | Path],
    seconds: float = 10.0,
    sample_rate: int = 44100,
    excerpts: int = 4,
    soundfonts: list[str | Path] | None = None,
    drum_kits: list[str | Path] | None = None,
    voices: list[str | Path] | None = None,
    voice_labels: dict[str, str] | None = None,
    test_fraction: float = 0.1,
    seed: int = 0,
    workers: int = 1,
    progress: bool = True,
    audio_format: AudioFormat = "wav",
    vocal_production: VocalProduction = "studio",
    sung_vowels: SungVowels = "held",
    vocal_gain_db: tuple[float, float] = STEM_GAIN_RANGES_DB["vocals"],
) -> MidiSummary:
    """Render up to ``excerpts`` excerpts of ``seconds`` from every MIDI file under ``sources``
    into ``out`` (see the module doc); complete songs are skipped, so a re-run resumes.
    ``voice_labels`` name voice folders in the manifest (default: the folder's name);
    ``vocal_production`` "dry" leaves the lead as rendered (every corpus built before
    2026-11-28's twenty-fifth session), "studio" puts it through a vocal chain
    (:mod:`~tokensep_core.data.vocal_production`); ``sung_vowels`` "held" holds each syllable's
    vowel through its note and crossfades legato notes, "stretched" (every corpus built before
    2026-11-28's twenty-sixth session) stretches the whole syllable
    (:mod:`~tokensep_core.data.sung_speech`); ``vocal_gain_db`` is the range (dB, on unit-RMS
    stems) each song's vocal gain is drawn from, the other stems' ranges fixed
    (:data:`~tokensep_core.data.mixing.STEM_GAIN_RANGES_DB`)."""
    check_render_options(seconds, sample_rate, excerpts, workers, test_fraction, vocal_production, sung_vowels, vocal_gain_db)
    low, high = vocal_gain_db
    program = shutil.which("fluidsynth")
    if program is None:
        raise TokensepError(f"data midi: the fluidsynth program is not installed; {INSTALL_HINT}")
    fonts = [Path(f).resolve() for f in soundfonts] if soundfonts else [SoundfontRenderer.default_soundfont()]
    for font in fonts:
        if not font.is_file():
            raise TokensepError(f"data midi: soundfont {font} not found")
    kits = usable_drum_kits(drum_kits or [])
    singers = usable_voices(voices or [])
    files = find_midi_files(sources)
    out = Path(out)
    plan = plan_midi_songs(files, seconds, excerpts, fonts, test_fraction, seed, kits, singers)
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
            "voices": [str(v) for v in singers],
            "test_fraction": test_fraction,
            "seed": seed,
            "format": audio_format,
            "vocal_production": vocal_production,
            "sung_vowels": sung_vowels,
            "vocal_gain_db": [float(low), float(high)],
        },
        defining=_with_default_format,
    )
    todo = [song for song in plan if not is_complete(out / song.split / song.name, audio_format)]
    jobs = [
        (song, seconds, sample_rate, program, out / song.split / song.name, audio_format, vocal_production, sung_vowels, (low, high))
        for song in todo
    ]
    for _ in tqdm(run_jobs(render_midi_song, jobs, workers), total=len(jobs), desc="midi", unit="song", disable=not progress):
        pass
    _write_manifest(out / MANIFEST_FILE, plan, voice_labels or {})
    splits = {split: sum(s.split == split for s in plan) for split in ("train", "test")}
    return MidiSummary(len(todo), len(plan) - len(todo), len(files), splits)


def _with_default_format(settings: dict) -> dict:
    """Settings recorded before the format, drum-kit, voice, vocal-production, sung-vowel and
    vocal-gain options were float WAV, without kits or voices, with dry vocals, stretched vowels
    and the default vocal gains."""
    defaults = {"format": "wav", "drum_kits": [], "voices": [], "vocal_production": "dry", "sung_vowels": "stretched"}
    return {**defaults, "vocal_gain_db": list(STEM_GAIN_RANGES_DB["vocals"]), **settings}


def _write_manifest(path: Path, plan: list[MidiSong], voice_labels: dict[str, str]) -> None:
    """One row per song; ``voice_rate_hz`` is the lowest sample rate among its clips (the
    vocal's bandwidth is at most half of it), ``voice_clips`` their paths inside the voice folder
    (``;``-separated, in the order they sing)."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(["song", "split", "source", "start_seconds", "soundfont", "drum_kit", "voice", "voice_rate_hz", "voice_clips"])
    for song in plan:
        kit = kit_label(song.drum_kit, song.soundfont)
        rate = str(min(clip_rate(c) for c in song.voice_clips)) if song.voice_clips else ""
        clips = ";".join(str(c.relative_to(song.voice)) for c in song.voice_clips) if song.voice else ""
        row = [song.name, song.split, str(song.source), f"{song.start:.3f}", song.soundfont.name, kit]
        writer.writerow([*row, voice_label(song.voice, voice_labels), rate, clips])
    with atomic_path(path) as tmp:
        Path(tmp).write_text(text.getvalue())
