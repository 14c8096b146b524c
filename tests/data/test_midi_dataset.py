"""``tokensep data midi``: parts assigned to stems, the lead sung as a monophonic line, file-level
splits, exact mixtures, resumable writing and clear errors."""

from __future__ import annotations

import csv
import json
import shutil
from pathlib import Path

import numpy as np
import pretty_midi
import pytest
import torch

from tokensep_core import STEMS
from tokensep_core.audio.io import read_audio
from tokensep_core.cli.main import main
from tokensep_core.data import midi_songs
from tokensep_core.data.midi_dataset import find_midi_files, write_midi_dataset
from tokensep_core.data.writer import SONG_FILES
from tokensep_core.errors import TokensepError
from tokensep_core.plugins import load_registry

needs_fluidsynth = pytest.mark.skipif(
    shutil.which("fluidsynth") is None, reason="the fluidsynth program is not installed (scripts/setup.sh installs it)"
)
SR = 16000


def _part(program: int, pitches: list[int], step: float = 0.25, length: float = 0.2, drum: bool = False, chord: bool = False):
    inst = pretty_midi.Instrument(program=program, is_drum=drum)
    for i, pitch in enumerate(pitches):
        start = i * step
        for offset in (0, 4, 7) if chord else (0,):
            inst.notes.append(pretty_midi.Note(90, pitch + offset, start, start + length))
    return inst


def _song(bass_program: int = 33, bass_pitch: int = 36, notes: int = 16) -> pretty_midi.PrettyMIDI:
    """Drums, a bass line, a chord part (piano) and a monophonic high lead (flute), ``notes`` each."""
    midi = pretty_midi.PrettyMIDI()
    midi.instruments = [
        _part(0, [36, 38] * (notes // 2), drum=True),
        _part(bass_program, [bass_pitch] * notes),
        _part(0, [60] * notes, step=0.5, length=0.5, chord=True),
        _part(73, [72, 74, 76, 77] * (notes // 4)),
    ]
    return midi


def test_parts_go_to_their_stems():
    parts = midi_songs.assign_parts(_song())
    assert [i.is_drum for i in parts.drums] == [True]
    assert [i.program for i in parts.bass] == [33]
    assert parts.vocals is not None and parts.vocals.program == 73  # the high monophonic part, not the chords
    assert [i.program for i in parts.other] == [0]


def test_without_a_bass_program_the_lowest_part_plays_bass_if_it_is_low():
    assert [i.program for i in midi_songs.assign_parts(_song(bass_program=42, bass_pitch=36)).bass] == [42]  # cello, median C2
    parts = midi_songs.assign_parts(_song(bass_program=42, bass_pitch=55))  # too high to stand in for a bass
    assert parts.bass == [] and 42 in [i.program for i in parts.other + ([parts.vocals] if parts.vocals else [])]


def test_lead_notes_are_monophonic_and_keep_the_highest_note():
    inst = pretty_midi.Instrument(program=73)
    inst.notes = [pretty_midi.Note(80, 60, 0.0, 1.0), pretty_midi.Note(80, 67, 0.5, 1.0), pretty_midi.Note(80, 55, 0.6, 0.9)]
    line = midi_songs.lead_notes(inst, np.random.default_rng(0))
    assert [(n.pitch, round(n.start, 3), round(n.start + n.duration, 3)) for n in line] == [(60, 0.0, 0.5), (67, 0.5, 1.0)]


def test_a_file_always_goes_to_the_same_split():
    names = [Path(f"/x/song_{i}.mid") for i in range(200)]
    tests = [midi_songs.is_test_file(p, 0.25) for p in names]
    assert tests == [midi_songs.is_test_file(Path("/elsewhere") / p.name, 0.25) for p in names]
    assert 0.15 < np.mean(tests) < 0.35


def test_missing_sources_and_empty_folders_are_refused(tmp_path):
    with pytest.raises(TokensepError, match="no such file or folder"):
        find_midi_files([tmp_path / "none"])
    with pytest.raises(TokensepError, match="no MIDI files"):
        find_midi_files([tmp_path])
    (tmp_path / "bad.mid").write_text("not midi")
    with pytest.raises(TokensepError, match="not a readable MIDI file"):
        midi_songs.read_midi(tmp_path / "bad.mid")


@needs_fluidsynth
@pytest.mark.slow
def test_midi_dataset_layout_splits_and_resume(tmp_path):
    sources = tmp_path / "midi"
    sources.mkdir()
    for name in ("alpha", "beta"):
        _song(notes=32).write(str(sources / f"{name}.mid"))  # 8 s of music
    out = tmp_path / "out"
    summary = write_midi_dataset(out, [sources], seconds=2.0, sample_rate=SR, excerpts=2, test_fraction=0.5, seed=1, progress=False)
    assert (summary.written, summary.skipped, summary.files) == (4, 0, 2)
    rows = list(csv.DictReader((out / "manifest.csv").open()))
    assert sorted(r["song"] for r in rows) == ["alpha_00", "alpha_01", "beta_00", "beta_01"]
    for name in ("alpha", "beta"):
        assert len({r["split"] for r in rows if r["song"].startswith(name)}) == 1  # a file's excerpts share a split
    for row in rows:
        folder = out / row["split"] / row["song"]
        wavs = {name: read_audio(folder / f"{name}.wav")[0] for name in SONG_FILES}
        assert all(w.shape == (2, 2 * SR) for w in wavs.values())
        assert torch.allclose(sum(wavs[s] for s in STEMS), wavs["mixture"], atol=1e-6, rtol=0)
        assert all(wavs[s].pow(2).mean() > 1e-7 for s in STEMS), row["song"]  # every part of _song plays in every excerpt
    assert json.loads((out / "midi.json").read_text())["excerpts"] == 2
    again = write_midi_dataset(out, [sources], seconds=2.0, sample_rate=SR, excerpts=2, test_fraction=0.5, seed=1, progress=False)
    assert (again.written, again.skipped) == (0, 4)
    with pytest.raises(TokensepError, match="seconds"):
        write_midi_dataset(out, [sources], seconds=3.0, sample_rate=SR, excerpts=2, test_fraction=0.5, seed=1, progress=False)


def test_flac_songs_match_the_float_wav_songs_and_load_as_a_dataset(tmp_path):
    """--format flac: the same songs as 24-bit FLAC (sum exact to 24-bit rounding), read back by
    the musdb dataset, in under half the bytes; a resume in the other format is refused."""
    sources = tmp_path / "midi"
    sources.mkdir()
    _song(notes=32).write(str(sources / "alpha.mid"))
    options = dict(seconds=2.0, sample_rate=SR, excerpts=1, test_fraction=0.0, seed=1, progress=False)
    write_midi_dataset(tmp_path / "wav", [sources], **options)
    write_midi_dataset(tmp_path / "flac", [sources], **options, audio_format="flac")
    folder = tmp_path / "flac" / "train" / "alpha_00"
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{name}.flac" for name in SONG_FILES)
    flac = {name: read_audio(folder / f"{name}.flac")[0] for name in SONG_FILES}
    wav = {name: read_audio(tmp_path / "wav" / "train" / "alpha_00" / f"{name}.wav")[0] for name in SONG_FILES}
    for name in SONG_FILES:
        assert (flac[name] - wav[name]).abs().max() <= 2.0**-23, name
    assert torch.allclose(sum(flac[s] for s in STEMS), flac["mixture"], atol=5 * 2.0**-23, rtol=0)
    sizes = {kind: sum(p.stat().st_size for p in (tmp_path / kind).rglob(f"*.{kind}")) for kind in ("wav", "flac")}
    assert sizes["flac"] < 0.5 * sizes["wav"], sizes
    dataset = load_registry().build(
        "dataset", {"name": "musdb", "params": {"root": str(tmp_path / "flac"), "split": "train", "sample_rate": SR}}
    )
    assert len(dataset) == 1 and torch.allclose(dataset[0].stems["bass"], flac["bass"])
    again = write_midi_dataset(tmp_path / "flac", [sources], **options, audio_format="flac")
    assert (again.written, again.skipped) == (0, 1)
    with pytest.raises(TokensepError, match="format 'flac' -> 'wav'"):
        write_midi_dataset(tmp_path / "flac", [sources], **options)


@needs_fluidsynth
def test_cli_refuses_a_missing_soundfont_before_writing(tmp_path, capsys):
    _song().write(str(tmp_path / "a.mid"))
    assert main(["data", "midi", str(tmp_path / "out"), str(tmp_path / "a.mid"), "--soundfont", str(tmp_path / "none.sf2")]) != 0
    assert "soundfont" in capsys.readouterr().err and not (tmp_path / "out").exists()


def test_without_a_monophonic_part_the_highest_part_is_sung_as_its_top_line():
    midi = pretty_midi.PrettyMIDI()
    midi.instruments = [_part(33, [36] * 16), _part(0, [60] * 16, chord=True), _part(48, [72] * 16, chord=True)]
    parts = midi_songs.assign_parts(midi)
    assert parts.vocals is not None and parts.vocals.program == 48
    assert [i.program for i in parts.other] == [0]


def test_excerpts_where_more_stems_play_come_first():
    midi = _song(notes=32)  # 8 s in which every stem plays, then 8 s of drums, bass and chords only
    for inst in midi.instruments[:3]:
        inst.notes += [pretty_midi.Note(n.velocity, n.pitch, n.start + 8.0, n.end + 8.0) for n in list(inst.notes)]
    parts = midi_songs.assign_parts(midi)
    assert midi_songs.excerpt_starts(midi, parts, 4.0, 2, np.random.default_rng(0)) == [0.0, 4.0]
    assert len(midi_songs.excerpt_starts(midi, parts, 4.0, 4, np.random.default_rng(0))) == 4  # then 3-stem windows


def _rms_db(wav: torch.Tensor) -> float:
    return 10 * float(torch.log10(wav.double().pow(2).mean()))


def test_a_lower_vocal_gain_range_moves_only_the_voice(tmp_path):
    """--vocal-gain-db: the same song with its voice 6 dB further down; the other stems are the
    same up to the song's one balance factor; an old folder resumes with the default range only."""
    sources = tmp_path / "midi"
    sources.mkdir()
    _song(notes=32).write(str(sources / "alpha.mid"))
    options = dict(seconds=2.0, sample_rate=SR, excerpts=1, test_fraction=0.0, seed=1, progress=False)
    songs = {}
    for label, gains in (("level", (0.0, 0.0)), ("quiet", (-6.0, -6.0))):
        write_midi_dataset(tmp_path / label, [sources], **options, vocal_gain_db=gains)
        folder = tmp_path / label / "train" / "alpha_00"
        songs[label] = {name: read_audio(folder / f"{name}.wav")[0] for name in SONG_FILES}
        assert json.loads((tmp_path / label / "midi.json").read_text())["vocal_gain_db"] == list(gains)
    level, quiet = songs["level"], songs["quiet"]
    assert torch.allclose(sum(quiet[s] for s in STEMS), quiet["mixture"], atol=1e-6, rtol=0)
    gain = float((quiet["bass"] * level["bass"]).sum() / level["bass"].pow(2).sum())
    for stem in ("drums", "bass", "other"):
        assert torch.allclose(quiet[stem], gain * level[stem], atol=1e-5), stem
    voice_vs_bass = {label: _rms_db(song["vocals"]) - _rms_db(song["bass"]) for label, song in songs.items()}
    assert voice_vs_bass["quiet"] - voice_vs_bass["level"] == pytest.approx(-6.0, abs=0.01)
    with pytest.raises(TokensepError, match="vocal_gain_db"):
        write_midi_dataset(tmp_path / "quiet", [sources], **options, vocal_gain_db=(-5.0, -5.0))
    settings = json.loads((tmp_path / "level" / "midi.json").read_text())
    del settings["vocal_gain_db"]  # recorded before the option: the default range
    (tmp_path / "level" / "midi.json").write_text(json.dumps(settings))
    with pytest.raises(TokensepError, match=r"vocal_gain_db \[-2.0, 3.0\] -> \[0.0, 0.0\]"):
        write_midi_dataset(tmp_path / "level", [sources], **options, vocal_gain_db=(0.0, 0.0))
    assert write_midi_dataset(tmp_path / "level", [sources], **options).skipped == 1


@pytest.mark.parametrize("gains", [("3", "-2"), ("nan", "0")])
def test_corpus_refuses_a_bad_vocal_gain_range_before_fetching(tmp_path, capsys, gains):
    assert main(["data", "corpus", str(tmp_path / "out"), "--vocal-gain-db", *gains]) != 0
    error = capsys.readouterr().err
    assert "vocal gain range" in error and len(error.strip().splitlines()) == 1
    assert list(tmp_path.iterdir()) == []
