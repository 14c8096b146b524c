"""``tokensep pseudolabel`` end to end with a tiny randomly initialised HTDemucs teacher."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pytest
import torch

from tokensep_core.audio.io import read_audio, write_audio
from tokensep_core.cli.main import main
from tokensep_core.plugins import load_registry

pytest.importorskip("tokensep_teachers", reason="plugin not installed: pip install -e plugins/tokensep-teachers")

TINY_HTDEMUCS = dict(segment=0.5, channels_hidden=8, depth=3, nfft=256, t_layers=1, t_heads=2, dconv_comp=4)


def _mixture(seed: int, seconds: float, sample_rate: int = 44100) -> torch.Tensor:
    """A decaying tone plus noise, stereo ``[2, T]``, made in the test."""
    t = torch.arange(round(seconds * sample_rate)) / sample_rate
    gen = torch.Generator().manual_seed(seed)
    tone = 0.2 * torch.sin(2 * math.pi * (110 + 55 * seed) * t) * torch.exp(-2 * t)
    return torch.stack([tone, 0.8 * tone]) + 0.02 * torch.randn(2, t.numel(), generator=gen)


@pytest.fixture
def checkpoint(tmp_path: Path) -> Path:
    from safetensors.torch import save_file

    from tokensep_teachers.htdemucs import HTDemucsConfig, HTDemucsSeparator

    path = tmp_path / "teacher.safetensors"
    save_file(HTDemucsSeparator(HTDemucsConfig(**TINY_HTDEMUCS, seed=7)).network.state_dict(), path)
    return path


@pytest.mark.slow
def test_labels_a_folder_reports_bad_files_and_resumes(tmp_path: Path, checkpoint: Path, capsys: pytest.CaptureFixture[str]) -> None:
    source, out = tmp_path / "unlabeled", tmp_path / "labels"
    write_audio(source / "song1.wav", _mixture(1, seconds=1.0), 44100, "FLOAT")
    write_audio(source / "album" / "Song 2" / "mixture.wav", _mixture(2, seconds=0.8, sample_rate=22050), 22050, "FLOAT")
    (source / "corrupt.wav").write_bytes(b"RIFF....WAVEfmt garbage")
    params = json.dumps({**TINY_HTDEMUCS, "checkpoint": str(checkpoint)})
    argv = ["pseudolabel", str(source), str(out), "--teacher", "htdemucs", "--params", params, "--overlap", "0.5", "-d", "cpu"]

    assert main(argv) == 1
    captured = capsys.readouterr()
    assert "tokensep: error: " in captured.err and "corrupt.wav: not a readable audio file" in captured.err
    assert "2 songs written, 0 already complete, 1 failed" in captured.out
    for name, rate, seconds in (("song1", 44100, 1.0), ("Song 2", 22050, 0.8)):
        mixture, mixture_rate = read_audio(out / name / "mixture.wav")
        assert mixture_rate == rate and mixture.shape == (2, round(seconds * rate))
        for stem in ("vocals", "drums", "bass", "other"):
            wav, stem_rate = read_audio(out / name / f"{stem}.wav")
            assert stem_rate == rate and wav.shape == mixture.shape and wav.abs().max() > 0
    dataset = load_registry().build("dataset", {"name": "stems_folder", "params": {"root": str(out)}})
    assert len(dataset) == 2 and set(dataset.stems) == {"vocals", "drums", "bass", "other"}
    song = next(song for song in dataset if song.name == "song1")
    torch.testing.assert_close(song.mixture, read_audio(out / "song1" / "mixture.wav")[0])
    settings = json.loads((out / "pseudolabel.json").read_text())
    assert settings["teacher"] == "htdemucs" and settings["params"]["overlap"] == 0.5

    (source / "corrupt.wav").unlink()
    assert main(argv) == 0
    assert "0 songs written, 2 already complete, 0 failed" in capsys.readouterr().out


def test_unknown_override_and_bad_params_are_one_line_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_audio(tmp_path / "in" / "a.wav", _mixture(0, seconds=0.1), 44100)
    assert main(["pseudolabel", str(tmp_path / "in"), str(tmp_path / "out"), "--teacher", "mixture_copy", "--segment", "2"]) == 1
    assert "teacher 'mixture_copy' has no 'segment' parameter" in capsys.readouterr().err
    assert main(["pseudolabel", str(tmp_path / "in"), str(tmp_path / "out"), "--teacher", "htdemucs", "--params", '{"dept": 2}']) == 1
    assert "field 'dept': unknown field" in capsys.readouterr().err
    missing = tmp_path / "absent.safetensors"
    assert (
        main(
            [
                "pseudolabel",
                str(tmp_path / "in"),
                str(tmp_path / "out"),
                "--teacher",
                "htdemucs",
                "--params",
                json.dumps({"checkpoint": str(missing)}),
            ]
        )
        == 1
    )
    assert f"{missing}: no such checkpoint file" in capsys.readouterr().err
    assert not (tmp_path / "out").exists()
