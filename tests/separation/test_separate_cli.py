import argparse
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tokensep_core.cli.main import main


def test_separate_the_real_track(tiny_run, real_track: Path, tmp_path: Path, capsys) -> None:
    run_dir, _ = tiny_run
    code = main(
        ["separate", str(real_track / "mixture.wav"), "-n", str(run_dir), "-o", str(tmp_path), "--segment", "1.0", "--greedy", "--int24"]
    )
    assert code == 0, capsys.readouterr().err
    source = sf.info(str(real_track / "mixture.wav"))
    written = sorted((tmp_path / run_dir.name / "mixture").iterdir())
    assert [p.name for p in written] == ["bass.wav", "drums.wav", "other.wav", "vocals.wav"]
    for path in written:
        info = sf.info(str(path))
        assert (info.samplerate, info.channels, info.frames, info.subtype) == (source.samplerate, source.channels, source.frames, "PCM_24")


def test_bad_inputs_fail_with_one_line_and_write_nothing(tiny_run, tmp_path: Path, capsys) -> None:
    run_dir, _ = tiny_run
    not_audio = tmp_path / "notes.wav"
    not_audio.write_text("this is not audio")
    out = tmp_path / "out"
    assert main(["separate", str(not_audio), str(tmp_path / "missing.wav"), "-n", str(run_dir), "-o", str(out)]) == 1
    errors = [line for line in capsys.readouterr().err.splitlines() if line.startswith("tokensep: error:")]
    assert len(errors) == 2 and "notes.wav: not a readable audio file" in errors[0] and "missing.wav: no such file" in errors[1]
    assert not any(p.is_file() for p in out.rglob("*")) if out.exists() else True


def test_filename_pattern_and_flac(tiny_run, tmp_path: Path) -> None:
    run_dir, _ = tiny_run
    source = tmp_path / "song.wav"
    sf.write(str(source), [[0.1, -0.1]] * 4000, 16000)
    assert (
        main(
            [
                "separate",
                str(source),
                "-n",
                str(run_dir),
                "-o",
                str(tmp_path / "o"),
                "--filename",
                "{stem}-{track}.{ext}",
                "--flac",
                "--stems",
                "drums",
            ]
        )
        == 0
    )
    assert [p.name for p in (tmp_path / "o" / run_dir.name).iterdir()] == ["drums-song.flac"]


def test_bf16_computes_the_lm_in_bfloat16_and_writes_every_stem(tiny_run, tmp_path: Path, monkeypatch) -> None:
    from tokensep_core.separation import separator as separator_module

    run_dir, _ = tiny_run
    source = tmp_path / "song.wav"
    sf.write(str(source), [[0.1, -0.1]] * 4000, 16000)
    seen = []
    inner = separator_module.inference_precision

    def recording(lm, dtype, device):
        seen.append(dtype)
        return inner(lm, dtype, device)

    monkeypatch.setattr(separator_module, "inference_precision", recording)
    assert main(["separate", str(source), "-n", str(run_dir), "-o", str(tmp_path / "o"), "--bf16"]) == 0
    assert seen and set(seen) == {"bfloat16"}
    assert len(list((tmp_path / "o" / run_dir.name / "song").iterdir())) == 4


def test_passes_are_checked_before_any_output(tiny_run, tmp_path: Path, capsys) -> None:
    run_dir, _ = tiny_run
    source = tmp_path / "song.wav"
    sf.write(str(source), [[0.1, -0.1]] * 4000, 16000)
    for value, message in (("4", "passes does not apply to this separator"), ("8,x", "--passes '8,x': expected comma-separated counts")):
        assert main(["separate", str(source), "-n", str(run_dir), "-o", str(tmp_path / "o"), "--passes", value]) == 1
        assert message in capsys.readouterr().err
    assert not (tmp_path / "o").exists() or not any(p.is_file() for p in (tmp_path / "o").rglob("*"))


def test_mixture_consistency_mask_writes_stems_that_sum_to_the_mixture(tiny_run, tmp_path: Path, capsys) -> None:
    run_dir, _ = tiny_run
    source = tmp_path / "song.wav"
    mixture = 0.1 * np.random.default_rng(0).standard_normal((6000, 2))
    sf.write(str(source), mixture, 16000, subtype="FLOAT")
    assert main(["separate", str(source), "-n", str(run_dir), "-o", str(tmp_path / "o"), "--float32", "--mixture-consistency", "mask"]) == 0
    folder = tmp_path / "o" / run_dir.name / "song"
    total = sum(sf.read(str(folder / f"{stem}.wav"))[0] for stem in ("vocals", "drums", "bass", "other"))
    assert np.allclose(total, mixture, atol=1e-4)
    with pytest.raises((SystemExit, argparse.ArgumentError)):
        main(["separate", str(source), "-n", str(run_dir), "-o", str(tmp_path / "p"), "--mixture-consistency", "wiener"])
    assert "invalid choice: 'wiener'" in capsys.readouterr().err
    assert not (tmp_path / "p").exists()


def test_stereo_mid_writes_the_same_stems_on_both_channels(tiny_run, tmp_path: Path, capsys) -> None:
    run_dir, _ = tiny_run
    source = tmp_path / "song.wav"
    sf.write(str(source), 0.1 * np.random.default_rng(1).standard_normal((6000, 2)), 16000, subtype="FLOAT")
    assert main(["separate", str(source), "-n", str(run_dir), "-o", str(tmp_path / "o"), "--float32", "--stereo", "mid"]) == 0
    vocals = sf.read(str(tmp_path / "o" / run_dir.name / "song" / "vocals.wav"))[0]
    assert vocals.shape == (6000, 2) and np.abs(vocals).max() > 0 and np.array_equal(vocals[:, 0], vocals[:, 1])
