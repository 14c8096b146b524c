"""The bad-input matrix, through the Python API (read_audio + GenerativeSeparator.separate) and
the CLI (``tokensep separate FILE -n CHECKPOINT -o OUT``).

Every case ends either in stems with the input's rate, channels and length, or in a one-line
error naming the file and the problem (exit code 1) with no output file left behind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from tokensep_core.audio.io import read_audio
from tokensep_core.cli.main import main
from tokensep_core.errors import AudioError, ConfigError, TokensepError
from tokensep_core.separation.separator import GenerativeSeparator

STEMS = ("bass", "drums", "other", "vocals")


def _tone(sample_rate: int, channels: int, frames: int) -> np.ndarray:
    """``[frames, channels]`` sines, a different pitch per channel."""
    t = np.arange(frames) / sample_rate
    return np.stack([0.3 * np.sin(2 * np.pi * (220 + 55 * c) * t) for c in range(channels)], axis=1)


def _with(value: float) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        data = _tone(16000, 1, 1600).astype(np.float32)
        data[100] = value
        sf.write(path, data, 16000, subtype="FLOAT")

    return write


def _truncated(keep: int) -> Callable[[Path], None]:
    def write(path: Path) -> None:
        sf.write(path, _tone(16000, 1, 1600), 16000)
        path.write_bytes(path.read_bytes()[:keep])

    return write


@dataclass(frozen=True)
class Case:
    write: Callable[[Path], None] | None  # None: the file does not exist
    error: str | None = None  # expected problem, or None for stems with the input's format
    shape: tuple[int, int, int] | None = None  # (rate, channels, frames) of the result


CASES: dict[str, Case] = {
    "empty_file": Case(lambda p: p.write_bytes(b""), error="empty file"),
    "zero_samples": Case(lambda p: sf.write(p, np.zeros((0, 1)), 16000), error="contains no samples"),
    "one_sample": Case(lambda p: sf.write(p, np.array([[0.5]]), 16000), shape=(16000, 1, 1)),
    "truncated_header": Case(_truncated(30), error="not a readable audio file"),
    # the header is intact but the data stops early: libsndfile reads the samples that are there
    "truncated_data": Case(_truncated(44 + 2 * 1000), shape=(16000, 1, 1000)),
    "text_named_wav": Case(lambda p: p.write_text("these are my notes, not audio\n"), error="not a readable audio file"),
    "nan_sample": Case(_with(float("nan")), error="contains NaN or infinite samples"),
    "inf_sample": Case(_with(float("inf")), error="contains NaN or infinite samples"),
    "full_scale_clipping": Case(lambda p: sf.write(p, np.sign(_tone(16000, 2, 1600)), 16000), shape=(16000, 2, 1600)),
    "silence": Case(lambda p: sf.write(p, np.zeros((1600, 2)), 16000), shape=(16000, 2, 1600)),
    "eight_channels": Case(lambda p: sf.write(p, _tone(16000, 8, 800), 16000), shape=(16000, 8, 800)),
    "8_khz": Case(lambda p: sf.write(p, _tone(8000, 1, 800), 8000), shape=(8000, 1, 800)),
    "192_khz": Case(lambda p: sf.write(p, _tone(192000, 2, 9600), 192000), shape=(192000, 2, 9600)),
    "pcm_24": Case(lambda p: sf.write(p, _tone(44100, 2, 2205), 44100, subtype="PCM_24"), shape=(44100, 2, 2205)),
    "float_32": Case(lambda p: sf.write(p, 1.5 * _tone(16000, 2, 1600), 16000, subtype="FLOAT"), shape=(16000, 2, 1600)),
    "missing_path": Case(None, error="no such file"),
}


@pytest.fixture(scope="module")
def separator(tiny_model: Path) -> GenerativeSeparator:
    return GenerativeSeparator.from_pretrained(tiny_model, device="cpu")


def _make(tmp_path: Path, name: str) -> Path:
    path = tmp_path / "in" / f"{name}.wav"
    path.parent.mkdir(parents=True, exist_ok=True)
    if CASES[name].write is not None:
        CASES[name].write(path)
    return path


def _error_lines(stderr: str) -> list[str]:
    """The ``tokensep: error: …`` messages (a progress bar may share their line)."""
    marker = "tokensep: error: "
    return [line[line.index(marker) + len(marker) :] for line in stderr.splitlines() if marker in line]


def _files(folder: Path) -> list[Path]:
    return sorted(p for p in folder.rglob("*") if p.is_file()) if folder.exists() else []


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_python_api(name: str, separator: GenerativeSeparator, tmp_path: Path) -> None:
    case, path = CASES[name], _make(tmp_path, name)
    if case.error:
        with pytest.raises(TokensepError) as info:
            wav, rate = read_audio(path)
            separator.separate(wav, rate)
        message = str(info.value)
        assert message.startswith(f"{path}: ") and case.error in message and "\n" not in message
        return
    wav, rate = read_audio(path)
    stems = separator.separate(wav, rate)
    assert sorted(stems) == list(STEMS)
    for estimate in stems.values():
        assert (rate, *estimate.shape) == case.shape and estimate.dtype == torch.float32
        assert torch.isfinite(estimate).all()


@pytest.mark.slow
@pytest.mark.parametrize("name", list(CASES))
def test_cli(name: str, tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    case, path = CASES[name], _make(tmp_path, name)
    out = tmp_path / "out"
    code = main(["separate", str(path), "-n", str(tiny_model), "-o", str(out)])
    errors = _error_lines(capsys.readouterr().err)
    if case.error:
        assert code == 1 and len(errors) == 1
        assert errors[0].startswith(f"{path}: ") and case.error in errors[0]
        assert _files(out) == []
        return
    assert code == 0 and errors == []
    written = _files(out)
    assert [p.relative_to(out).as_posix() for p in written] == [f"{tiny_model.name}/{name}/{stem}.wav" for stem in STEMS]
    for file in written:
        info = sf.info(str(file))
        assert (info.samplerate, info.channels, info.frames) == case.shape


def test_api_refuses_non_finite_and_empty_tensors(separator: GenerativeSeparator) -> None:
    mixture = torch.zeros(2, 800)
    mixture[1, 7] = float("nan")
    with pytest.raises(AudioError, match="NaN or infinite"):
        separator.separate(mixture, 16000)
    with pytest.raises(ConfigError, match=r"got shape \[2, 0\]"):
        separator.separate(torch.zeros(2, 0), 16000)
    with pytest.raises(ConfigError, match=r"got shape \[1, 2, 800\]"):
        separator.separate(torch.zeros(1, 2, 800), 16000)
    assert separator.separate(torch.zeros(800), 16000)["bass"].shape == (1, 800)  # [T] is mono


def test_output_under_a_regular_file_fails_before_any_work(tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    # root ignores permission bits, but nobody can create a folder inside a regular file
    song = _make(tmp_path, "silence")
    blocker = tmp_path / "blocker"
    blocker.write_text("a file, not a folder")
    for out in (blocker, blocker / "sub"):
        assert main(["separate", str(song), "-n", str(tiny_model), "-o", str(out)]) == 1
        captured = capsys.readouterr()
        errors = _error_lines(captured.err)
        assert len(errors) == 1 and errors[0].startswith(f"{out}: cannot write here") and str(blocker) in errors[0]
        assert "model" not in captured.err, "refused before loading the model or separating"
    assert blocker.read_text() == "a file, not a folder"


def test_a_stem_that_cannot_be_placed_leaves_no_stem_of_the_track(
    tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    song = _make(tmp_path, "silence")
    out = tmp_path / "out"
    occupied = out / tiny_model.name / "silence" / "other.wav"
    occupied.mkdir(parents=True)  # a folder where a stem file must go
    assert main(["separate", str(song), "-n", str(tiny_model), "-o", str(out)]) == 1
    errors = _error_lines(capsys.readouterr().err)
    assert len(errors) == 1 and errors[0].startswith(f"{occupied}: cannot write here")
    assert _files(out) == [] and sorted(p.name for p in occupied.parent.iterdir()) == ["other.wav"]


def test_one_bad_file_does_not_stop_the_others(tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    good, bad = _make(tmp_path, "one_sample"), _make(tmp_path, "text_named_wav")
    out = tmp_path / "out"
    assert main(["separate", str(bad), str(good), "-n", str(tiny_model), "-o", str(out)]) == 1
    errors = _error_lines(capsys.readouterr().err)
    assert len(errors) == 1 and errors[0].startswith(f"{bad}: ")
    assert [p.parent.name for p in _files(out)] == ["one_sample"] * 4
