"""``tokensep data music``: a fake package cache with synthesized Ogg/FLAC tracks (one inside a
.pk3) -> excerpts, splits by track, manifest, licences, resume, errors, and the codec trainer's
dataset reading the result. No network: packages are found in the cache, or fake apt tools."""

from __future__ import annotations

import csv
import json
import zipfile
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from tokensep_codecs.training import batch_wav, build_codec_training
from tokensep_core.audio.io import read_audio
from tokensep_core.cli.main import main
from tokensep_core.data import music_sources
from tokensep_core.data.music_corpus import build_music_corpus, interleave, package_table, track_splits
from tokensep_core.data.music_sources import MusicFolder, MusicPackage, Track, find_tracks, music_packages
from tokensep_core.data.stems_folder import StemsFolderDataset
from tokensep_core.errors import TokensepError

RATE = 8000  # output rate of the tests
SONGS = "usr/share/games/demo/music"
PK3 = "usr/share/games/demo/data/music.pk3"
FAKE = (
    MusicPackage(
        "demo-music",
        "CC-BY-SA-3.0",
        (MusicFolder(SONGS), MusicFolder(PK3, "sound/tracks/")),
        include=("*.ogg", "*.flac", "*.opus"),
        licences=(f"{SONGS}/license.txt",),
    ),
    MusicPackage("other-music", "GPL-2", (MusicFolder("usr/share/other/snd"),), include=("theme*",)),
    MusicPackage("huge-music", "MIT", (MusicFolder("usr/share/huge"),), default=False),
)


def _tone(seconds: float, rate: int, freq: float, channels: int) -> np.ndarray:
    """``[T, channels]`` sine at -12 dBFS peak, each channel a little different."""
    t = np.arange(round(seconds * rate)) / rate
    return np.stack([0.25 * np.sin(2 * np.pi * freq * (1 + 0.01 * c) * t) for c in range(channels)], axis=1).astype(np.float32)


def _write(path: Path, data: np.ndarray, rate: int, **kwargs) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    sf.write(path, data, rate, **kwargs)


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """A package cache as fetch_package leaves it, holding the FAKE packages."""
    monkeypatch.setattr(music_sources, "MUSIC_PACKAGES", FAKE)
    root = tmp_path / "cache" / "root"
    songs = root / SONGS
    _write(songs / "a.ogg", _tone(3.5, 48000, 440, 2), 48000, format="OGG", subtype="VORBIS")  # 3 excerpts
    _write(songs / "album" / "b.flac", _tone(2.2, 44100, 1000, 1), 44100)  # mono: 2 excerpts
    quiet_start = np.concatenate([np.zeros((RATE, 2), np.float32), _tone(1.0, RATE, 300, 2)])
    _write(songs / "c.flac", quiet_start, RATE)  # 1 silent excerpt dropped, 1 kept
    _write(songs / "low.ogg", _tone(2.0, 4000, 200, 2), 4000, format="OGG", subtype="VORBIS")  # band-limited
    (songs / "broken.ogg").write_bytes(b"OggS" + bytes(range(256)) * 4)  # undecodable
    (songs / "cover.png").write_bytes(b"\x89PNG")
    (songs / "license.txt").write_text("album licence\n")
    (songs / "link.ogg").symlink_to(songs / "a.ogg")  # skipped: counted once
    buffer = tmp_path / "d.ogg"
    _write(buffer, _tone(2.0, 44100, 660, 2), 44100, format="OGG", subtype="VORBIS")
    (root / PK3).parent.mkdir(parents=True)
    with zipfile.ZipFile(root / PK3, "w") as pk3:
        pk3.write(buffer, "sound/tracks/d.ogg")
        pk3.write(buffer, "sound/effects/boom.ogg")  # not under the member folder
    other = root / "usr/share/other/snd"
    _write(other / "theme.flac", _tone(2.0, 44100, 220, 2), 44100)
    _write(other / "click.flac", _tone(2.0, 44100, 2000, 2), 44100)  # an effect: not included
    for name, text in (("demo-music", "Licence: CC-BY-SA-3.0\n"), ("other-music", "Licence: GPL-2\n")):
        (root / "usr/share/doc" / name).mkdir(parents=True)
        (root / "usr/share/doc" / name / "copyright").write_text(text)
    return tmp_path / "cache"


def _build(tmp_path: Path, cache: Path, **kwargs):
    options = dict(cache=cache, seconds=1.0, sample_rate=RATE, test_fraction=0.5, progress=False)
    return build_music_corpus(tmp_path / "out", **{**options, **kwargs})


def _manifest(out: Path) -> list[dict]:
    with open(out / "manifest.csv") as handle:
        return list(csv.DictReader(handle))


def test_discovery_keeps_music_folders_and_archive_members_only(cache):
    root = cache / "root"
    tracks = find_tracks(FAKE[0], root, cache)
    assert [t.name for t in tracks] == ["d", "a", "album/b", "broken", "c", "low"]  # sorted by source: the .pk3 path first
    member = next(t for t in tracks if t.name == "d")
    assert member.source == f"{PK3}:sound/tracks/d.ogg"
    assert member.path == cache / "archives" / "demo-music" / "music.pk3" / "sound/tracks/d.ogg" and member.path.is_file()
    assert [t.name for t in find_tracks(FAKE[1], root, cache)] == ["theme"]  # click.flac is an effect


def test_default_and_named_packages(cache):
    assert [p.name for p in music_packages(None)] == ["demo-music", "other-music"]
    assert [p.name for p in music_packages(["huge-music", "demo-music", "huge-music"])] == ["huge-music", "demo-music"]
    with pytest.raises(TokensepError, match="unknown package nosuch; known: demo-music, other-music, huge-music"):
        music_packages(["demo-music", "nosuch"])


def test_every_real_package_names_folders_and_licence():
    assert {p.name for p in music_sources.MUSIC_PACKAGES if not p.default} == {"0ad-data"}
    for package in music_sources.MUSIC_PACKAGES:
        assert package.folders and package.licence
        assert all(not Path(f.path).is_absolute() for f in package.folders)
        assert all(f.member.endswith("/") for f in package.folders if f.member)


def test_excerpts_rates_channels_and_skips(tmp_path, cache, capsys):
    summary = _build(tmp_path, cache)
    out = tmp_path / "out"
    by_source = {Path(t.source.split(":")[-1]).name: t for t in summary.tracks}
    assert {name: len(t.excerpts) for name, t in by_source.items()} == {
        "a.ogg": 3,
        "b.flac": 2,
        "c.flac": 1,
        "low.ogg": 0,
        "broken.ogg": 0,
        "d.ogg": 2,
        "theme.flac": 2,
    }
    assert by_source["c.flac"].silent == 1 and by_source["c.flac"].excerpts[0]["start"] == 1.0
    assert by_source["low.ogg"].skipped == "band-limited"
    assert by_source["broken.ogg"].skipped.startswith("undecodable") and "broken.ogg" in by_source["broken.ogg"].skipped
    assert "warning: data music: skipped" in capsys.readouterr().err
    assert summary.written == 10 and summary.kept == 0 and [t.source for t in summary.undecodable()] == [f"{SONGS}/broken.ogg"]
    folders = sorted(p.parent for p in out.glob("*/*/mixture.flac"))
    assert len(folders) == 10 and all(sorted(p.name for p in f.iterdir()) == ["mixture.flac"] for f in folders)
    for folder in folders:
        info = sf.info(folder / "mixture.flac")
        assert (info.samplerate, info.channels, info.frames, info.subtype) == (RATE, 2, RATE, "PCM_24")
    mono = read_audio(next(out.glob("*/demo-music_album-b_001/mixture.flac")))[0]
    assert torch.equal(mono[0], mono[1]) and mono.abs().max() > 0.2  # duplicated, not silent
    tone = read_audio(next(out.glob("*/demo-music_a_001/mixture.flac")))[0]  # 48 kHz 440 Hz -> 8 kHz
    peak = np.argmax(np.abs(np.fft.rfft(tone[0].numpy()))) * RATE / tone.shape[-1]
    assert abs(peak - 440) <= 2 and not torch.equal(tone[0], tone[1])  # stereo kept
    row = next(r for r in package_table(summary, 1.0) if r["package"] == "demo-music")
    assert (row["excerpts"], row["tracks"], row["rates"], row["mono"], row["skipped"]) == (8, "4/6", [4000, 8000, 44100, 48000], 1, 2)


def test_splits_hold_out_whole_tracks_and_depend_on_the_seed(tmp_path, cache):
    summary = _build(tmp_path, cache)
    for track in summary.tracks:  # every excerpt of a track lies in its track's split
        assert all((tmp_path / "out" / track.split / e["name"] / "mixture.flac").is_file() for e in track.excerpts)
    demo = [t for t in summary.tracks if t.package == "demo-music"]
    assert sum(t.split == "test" for t in demo) == 3  # round(0.5 * 6) of the package's tracks
    tracks = find_tracks(FAKE[0], cache / "root", cache)
    assert track_splits(tracks, 0.5, 0) == {t.source: t.split for t in demo}
    seeded = [track_splits(tracks, 0.5, seed) for seed in range(1, 6)]
    assert all(sum(s == "test" for s in splits.values()) == 3 for splits in seeded)
    assert any(splits != track_splits(tracks, 0.5, 0) for splits in seeded)  # the seed picks the held-out tracks


def test_manifest_and_licences(tmp_path, cache):
    summary = _build(tmp_path, cache)
    out = tmp_path / "out"
    rows = _manifest(out)
    assert len(rows) == 10 and {r["excerpt"] for r in rows} == {p.parent.name for p in out.glob("*/*/mixture.flac")}
    theme = next(r for r in rows if r["package"] == "other-music")
    assert (theme["licence"], theme["file"], theme["source_rate"], theme["start_seconds"]) == (
        "GPL-2",
        "usr/share/other/snd/theme.flac",
        "44100",
        "0.000",
    )
    assert float(theme["centroid_hz"]) == pytest.approx(220, abs=40) and -20 < float(theme["rms_dbfs"]) < -10
    d = [r for r in rows if r["file"].endswith("d.ogg")]
    assert [r["file"] for r in d] == [f"{PK3}:sound/tracks/d.ogg"] * 2 and [r["start_seconds"] for r in d] == ["0.000", "1.000"]
    assert all((out / r["split"] / r["excerpt"]).is_dir() for r in rows)
    assert (out / "licences" / "demo-music.txt").read_text() == "Licence: CC-BY-SA-3.0\n"
    assert (out / "licences" / "other-music.txt").read_text() == "Licence: GPL-2\n"
    assert (out / "licences" / "demo-music" / f"{SONGS.replace('/', '_')}_license.txt").read_text() == "album licence\n"
    assert json.loads((out / "music.json").read_text())["packages"] == ["demo-music", "other-music"]
    assert len(summary.tracks) == 7


def test_resume_never_rewrites_and_refuses_other_settings(tmp_path, cache, monkeypatch):
    _build(tmp_path, cache)
    out = tmp_path / "out"
    files = sorted(out.glob("*/*/mixture.flac"))
    stamps = {p: p.stat().st_mtime_ns for p in files}
    decoded = []
    monkeypatch.setattr("tokensep_core.data.music_corpus.read_audio", lambda path: decoded.append(path) or read_audio(path))
    again = _build(tmp_path, cache)
    assert (again.written, again.kept) == (0, 10)
    assert {p: p.stat().st_mtime_ns for p in files} == stamps
    assert [p.name for p in decoded] == ["broken.ogg"]  # finished tracks are not decoded again
    lost = next(p for p in files if "album-b_000" in str(p))
    lost.unlink()
    decoded.clear()
    third = _build(tmp_path, cache)
    assert (third.written, third.kept) == (1, 9) and lost.is_file()
    assert sorted(p.name for p in decoded) == ["b.flac", "broken.ogg"]
    assert {p: p.stat().st_mtime_ns for p in files if p != lost} == {p: s for p, s in stamps.items() if p != lost}
    manifest = (out / "manifest.csv").read_text()
    with pytest.raises(TokensepError, match=r"made with other settings \(seconds 1.0 -> 2.0\); use a new folder"):
        _build(tmp_path, cache, seconds=2.0)
    with pytest.raises(TokensepError, match="packages"):
        _build(tmp_path, cache, packages=["demo-music"])
    assert (out / "manifest.csv").read_text() == manifest and sorted(out.glob("*/*/mixture.flac")) == files


@pytest.mark.parametrize("seconds", [0.0, -1.0, float("nan"), 1e-6])
def test_bad_seconds_is_refused_before_writing(tmp_path, cache, seconds):
    with pytest.raises(TokensepError, match="need seconds > 0"):
        _build(tmp_path, cache, seconds=seconds)
    assert not (tmp_path / "out").exists()


def test_missing_music_folder_and_broken_archive_are_errors(tmp_path, cache):
    root = cache / "root"
    moved = root / "usr/share/moved"
    (root / SONGS).rename(moved)
    with pytest.raises(TokensepError, match=f"demo-music has no music folder {SONGS}"):
        find_tracks(FAKE[0], root, cache)
    moved.rename(root / SONGS)
    (root / PK3).write_bytes(b"not a zip")
    with pytest.raises(TokensepError, match="music.pk3: not a readable zip archive"):
        find_tracks(FAKE[0], root, cache)
    empty = MusicPackage("empty-music", "MIT", (MusicFolder("usr/share/other/snd"),), include=("none*",))
    with pytest.raises(TokensepError, match="no music files"):
        find_tracks(empty, root, cache)


def test_a_package_without_its_music_path_stops_before_output(tmp_path, cache, monkeypatch):
    """A package apt downloads but whose music path is not in it: one-line error, OUT untouched."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    (bin_dir / "apt-get").write_text('#!/bin/sh\ntouch "$2_1.0_all.deb"\n')
    (bin_dir / "dpkg-deb").write_text("#!/bin/sh\nexit 0\n")
    for tool in bin_dir.iterdir():
        tool.chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}:/usr/bin:/bin")
    with pytest.raises(TokensepError, match=r"^data music: huge-music_1.0_all.deb did not unpack usr/share/huge$"):
        _build(tmp_path, cache, packages=["demo-music", "huge-music"])
    assert not (tmp_path / "out").exists()


def test_cli_summary_and_one_line_errors(tmp_path, cache, capsys):
    base = ["data", "music", str(tmp_path / "out"), "--cache", str(cache), "--sample-rate", str(RATE), "--no-progress"]
    assert main([*base, "--seconds", "1"]) == 0
    out = capsys.readouterr().out
    assert "10 excerpts written, 0 already there" in out and "1 undecodable tracks skipped" in out
    assert "demo-music: 8 excerpts" in out and "could not decode" in out and "broken.ogg" in out
    for extra, message in ((["--seconds", "0"], "need seconds > 0"), (["--packages", "nosuch"], "unknown package nosuch")):
        assert main([*base, *extra]) == 1
        err = capsys.readouterr().err
        assert message in err and len(err.strip().splitlines()) == 1


def test_the_codec_trainer_reads_the_excerpts(tmp_path, cache):
    _build(tmp_path, cache)
    out = tmp_path / "out"
    dataset = StemsFolderDataset(StemsFolderDataset.Config(root=out / "train", stems=("mixture",), sample_rate=RATE))
    assert len(dataset) == len(list((out / "train").iterdir())) and dataset.stems == ("mixture",)
    sections = {
        "codec": {"name": "debug", "params": {"sample_rate": RATE}},
        "data": {"name": "stems_folder", "params": {"root": str(out / "train"), "stems": ["mixture"], "sample_rate": RATE}},
        "augment": {"seconds": 0.5, "examples_per_epoch": 2},
    }
    task, examples = build_codec_training(sections, "music.yaml")
    item = examples[0]
    assert item["stems"].shape == (1, 2, RATE // 2) and item["stems"].abs().max() > 0
    assert batch_wav({"stems": item["stems"].unsqueeze(0), "mixture": item["mixture"].unsqueeze(0)}).shape == (1, 2, RATE // 2)


def test_interleave_takes_packages_in_turn():
    tracks = [Track(p, f"{p}/{i}", Path(f"{p}{i}"), str(i)) for p, n in (("a", 3), ("b", 1), ("c", 2)) for i in range(n)]
    assert [t.source for t in interleave(tracks)] == ["a/0", "b/0", "c/0", "a/1", "c/1", "a/2"]


def test_an_interrupted_build_lists_what_it_finished_and_resumes(tmp_path, cache, monkeypatch):
    from tokensep_core.data import music_corpus

    real = music_corpus.cut_track
    calls = []

    def interrupted(track, *args):
        calls.append(track.source)
        if len(calls) == 3:
            raise KeyboardInterrupt
        return real(track, *args)

    monkeypatch.setattr(music_corpus, "cut_track", interrupted)
    with pytest.raises(KeyboardInterrupt):
        _build(tmp_path, cache)
    rows = _manifest(tmp_path / "out")
    assert {r["file"] for r in rows} == set(calls[:2])  # the first track of each package, both finished
    assert {r["package"] for r in rows} == {"demo-music", "other-music"}
    assert {r["excerpt"] for r in rows} == {p.parent.name for p in (tmp_path / "out").glob("*/*/mixture.flac")}
    monkeypatch.setattr(music_corpus, "cut_track", real)
    summary = _build(tmp_path, cache)
    assert (summary.written, summary.kept) == (10 - len(rows), len(rows)) and len(_manifest(tmp_path / "out")) == 10
