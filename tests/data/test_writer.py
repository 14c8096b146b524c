"""``write_synthetic_dataset`` and ``tokensep data synth``: layout, exact mixtures, atomic songs."""

from __future__ import annotations

import json

import pytest
import soundfile as sf
import torch

from tokensep_core.audio.io import read_audio
from tokensep_core.cli.main import main
from tokensep_core.data.procedural import ProceduralRenderer
from tokensep_core.data.synth_plan import plan_songs
from tokensep_core.data.writer import SONG_FILES, write_synthetic_dataset
from tokensep_core.errors import TokensepError

SR = 16000
SECONDS = 1.0


def _write(out, songs=5, **kw):
    args = dict(songs=songs, seconds=SECONDS, sample_rate=SR, seed=3, renderer=ProceduralRenderer(), test_fraction=0.4, progress=False)
    return write_synthetic_dataset(out, **{**args, **kw})


def test_layout_and_exact_mixture(tmp_path):
    summary = _write(tmp_path)
    assert (summary.written, summary.skipped, summary.splits) == (5, 0, {"train": 3, "test": 2})
    folders = sorted(p for p in tmp_path.glob("*/*") if p.is_dir())
    assert [f.parent.name for f in folders].count("test") == 2
    for folder in folders:
        assert sorted(p.name for p in folder.iterdir()) == sorted(f"{name}.wav" for name in SONG_FILES)
        wavs = {}
        for name in SONG_FILES:
            info = sf.info(str(folder / f"{name}.wav"))
            assert (info.channels, info.samplerate, info.frames, info.subtype) == (2, SR, SR, "FLOAT")
            wavs[name], _ = read_audio(folder / f"{name}.wav")
        total = wavs["vocals"] + wavs["drums"] + wavs["bass"] + wavs["other"]
        assert torch.allclose(total, wavs["mixture"], atol=1e-6, rtol=0)
        assert wavs["mixture"].abs().max() <= 0.99 + 1e-6
    assert json.loads((tmp_path / "synth.json").read_text())["seed"] == 3


def test_rerun_skips_and_completes_interrupted_songs(tmp_path):
    _write(tmp_path, songs=3)
    song = plan_songs(3, 3, 0.4)[0]
    folder = tmp_path / song.split / song.name
    before = read_audio(folder / "vocals.wav")[0]  # samples: float WAVs carry a write timestamp (PEAK chunk)
    (folder / "drums.wav").unlink()  # an incomplete song
    stale = folder.parent / f".{song.name}.abc123"  # what a killed run leaves
    stale.mkdir()
    (stale / "vocals.wav").write_bytes(b"partial")
    summary = _write(tmp_path, songs=4)
    assert (summary.written, summary.skipped) == (2, 2)
    assert (folder / "drums.wav").is_file() and torch.equal(read_audio(folder / "vocals.wav")[0], before)
    assert not stale.exists()
    assert not list(tmp_path.glob("*/.*"))


def test_other_settings_refused(tmp_path):
    _write(tmp_path, songs=1)
    with pytest.raises(TokensepError, match="other settings.*seed 3 -> 4"):
        _write(tmp_path, songs=1, seed=4)


def test_failed_render_leaves_no_song(tmp_path):
    class Broken(ProceduralRenderer):
        def render(self, seed, seconds, sample_rate):
            stems = super().render(seed, seconds, sample_rate)
            del stems["bass"]
            return stems

    with pytest.raises(TokensepError, match="gave no bass"):
        _write(tmp_path, renderer=Broken())
    assert not [p for p in tmp_path.rglob("*") if p.is_dir() and p.name.startswith("synth_")]


def test_cli_synth(tmp_path, capsys):
    out = tmp_path / "synth"
    code = main(
        [
            "data",
            "synth",
            str(out),
            "--songs",
            "2",
            "--seconds",
            "0.5",
            "--sample-rate",
            str(SR),
            "--seed",
            "1",
            "--test-fraction",
            "0.5",
            "--no-progress",
        ]
    )
    assert code == 0
    assert "2 songs written" in capsys.readouterr().out
    assert len(list(out.glob("train/*/mixture.wav"))) == 1 and len(list(out.glob("test/*/mixture.wav"))) == 1


@pytest.mark.parametrize(
    "extra, message",
    [
        (["--songs", "0"], "songs >= 1"),
        (["--renderer", "nosuch"], "unknown renderer 'nosuch'"),
        (["--test-fraction", "2"], "test fraction"),
    ],
)
def test_cli_bad_arguments(tmp_path, capsys, extra, message):
    code = main(["data", "synth", str(tmp_path / "o"), "--seconds", "0.5", "--sample-rate", str(SR), "--no-progress", *extra])
    err = capsys.readouterr().err
    assert code == 1 and message in err and len(err.strip().splitlines()) == 1


def test_cli_out_not_writable(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    for out in (blocker, blocker / "sub"):
        code = main(["data", "synth", str(out), "--songs", "1", "--seconds", "0.5", "--sample-rate", str(SR), "--no-progress"])
        err = capsys.readouterr().err
        assert code == 1 and err.startswith("tokensep: error:") and str(blocker) in err and len(err.strip().splitlines()) == 1


def test_workers_write_the_same_songs(tmp_path):
    serial, parallel = tmp_path / "serial", tmp_path / "parallel"
    _write(serial, songs=3)
    summary = _write(parallel, songs=3, workers=2)
    assert (summary.written, summary.skipped) == (3, 0)
    for song in plan_songs(3, 3, 0.4):
        for name in SONG_FILES:
            a = read_audio(serial / song.split / song.name / f"{name}.wav")[0]
            b = read_audio(parallel / song.split / song.name / f"{name}.wav")[0]
            assert torch.equal(a, b), (song.name, name)


def test_zero_workers_is_refused_before_writing(tmp_path):
    with pytest.raises(TokensepError, match="workers >= 1"):
        _write(tmp_path / "out", workers=0)
    assert not (tmp_path / "out").exists()


def test_a_song_that_fails_in_a_worker_stops_the_run_with_its_error(tmp_path):
    (tmp_path / "train").write_text("a file where the train split's folder should go")
    with pytest.raises(TokensepError, match="cannot write here"):
        _write(tmp_path, songs=6, workers=2)
