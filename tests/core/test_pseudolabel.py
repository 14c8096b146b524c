"""Pseudo-labelling a folder of mixtures into a stems folder, with the built-in mixture copy teacher."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tokensep_core.audio.io import read_audio, write_audio
from tokensep_core.errors import TokensepError
from tokensep_core.interfaces import Separator
from tokensep_core.separation.baselines import MixtureCopy
from tokensep_core.separation.pseudolabel import find_mixtures, pseudolabel_folder

SETTINGS = {"teacher": "mixture_copy", "params": {"stems": ["vocals", "drums", "bass", "other"]}}


def _wav(seed: int, seconds: float = 0.2, sample_rate: int = 8000) -> torch.Tensor:
    return 0.1 * torch.randn(2, round(seconds * sample_rate), generator=torch.Generator().manual_seed(seed))


def _unlabeled(root: Path) -> dict[str, torch.Tensor]:
    """A MUSDB-style split, loose nested files, a name collision, hidden and non-audio files."""
    wavs = {"Song A": _wav(0), "Song B": _wav(1), "loose": _wav(2), "x - take": _wav(3), "y - take": _wav(4)}
    write_audio(root / "train" / "Song A" / "mixture.wav", wavs["Song A"], 8000, "FLOAT")
    write_audio(root / "train" / "Song A" / "vocals.wav", _wav(9), 8000, "FLOAT")
    write_audio(root / "test" / "Song B" / "mixture.flac", wavs["Song B"], 8000, "PCM_24")
    write_audio(root / "loose.wav", wavs["loose"], 8000, "FLOAT")
    write_audio(root / "x" / "take.wav", wavs["x - take"], 8000, "FLOAT")
    write_audio(root / "y" / "take.wav", wavs["y - take"], 8000, "FLOAT")
    write_audio(root / ".hidden.wav", _wav(5), 8000)
    (root / "notes.txt").write_text("not audio")
    return wavs


def test_find_mixtures_names_songs_and_skips_stems(tmp_path: Path) -> None:
    _unlabeled(tmp_path)
    songs = {s.name: s.path.relative_to(tmp_path).as_posix() for s in find_mixtures(tmp_path)}
    assert songs == {
        "Song A": "train/Song A/mixture.wav",
        "Song B": "test/Song B/mixture.flac",
        "loose": "loose.wav",
        "x - take": "x/take.wav",
        "y - take": "y/take.wav",
    }


def test_writes_a_stems_folder_and_resumes(tmp_path: Path) -> None:
    wavs = _unlabeled(tmp_path / "in")
    out = tmp_path / "out"
    teacher = MixtureCopy(MixtureCopy.Config())
    summary = pseudolabel_folder(teacher, tmp_path / "in", out, SETTINGS, progress=False)
    assert (summary.written, summary.skipped, summary.failed) == (5, 0, [])
    assert sorted(p.name for p in out.iterdir()) == sorted([*wavs, "pseudolabel.json"])
    for name, wav in wavs.items():
        assert sorted(p.name for p in (out / name).iterdir()) == ["bass.wav", "drums.wav", "mixture.wav", "other.wav", "vocals.wav"]
        mixture, rate = read_audio(out / name / "mixture.wav")
        assert rate == 8000
        torch.testing.assert_close(mixture, wav, atol=1e-6, rtol=0)  # 24-bit flac input: within its precision
        assert torch.equal(read_audio(out / name / "drums.wav")[0], mixture)

    (out / "loose" / "bass.wav").unlink()
    again = pseudolabel_folder(teacher, tmp_path / "in", out, SETTINGS, progress=False)
    assert (again.written, again.skipped) == (1, 4)
    assert (out / "loose" / "bass.wav").is_file()


def test_a_bad_song_is_reported_and_the_others_are_written(tmp_path: Path) -> None:
    write_audio(tmp_path / "in" / "good.wav", _wav(0), 8000)
    (tmp_path / "in" / "broken.wav").write_bytes(b"RIFF not really a wav file")

    class FailsOnLong(Separator):
        stems = ("vocals", "other")

        def separate(self, wav: torch.Tensor, sample_rate: int) -> dict[str, torch.Tensor]:
            if wav.shape[-1] > 2000:
                raise RuntimeError("out of memory\nsecond line")
            return {"vocals": wav, "other": wav}

    write_audio(tmp_path / "in" / "long.wav", _wav(1, seconds=0.5), 8000)
    reported: list[str] = []
    summary = pseudolabel_folder(FailsOnLong(), tmp_path / "in", tmp_path / "out", SETTINGS, progress=False, report=reported.append)
    assert summary.written == 1 and len(summary.failed) == 2 and reported == summary.failed
    assert any("broken.wav: not a readable audio file" in line for line in reported)
    assert any(line.endswith("long.wav: RuntimeError: out of memory") for line in reported)
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["good", "pseudolabel.json"]  # no partial song


def test_resuming_with_another_teacher_is_refused(tmp_path: Path) -> None:
    write_audio(tmp_path / "in" / "a.wav", _wav(0), 8000)
    teacher = MixtureCopy(MixtureCopy.Config())
    pseudolabel_folder(
        teacher, tmp_path / "in", tmp_path / "out", {**SETTINGS, "params": {"stems": ["vocals"], "device": "cpu"}}, progress=False
    )
    pseudolabel_folder(
        teacher, tmp_path / "in", tmp_path / "out", {**SETTINGS, "params": {"stems": ["vocals"], "device": "cuda"}}, progress=False
    )
    with pytest.raises(TokensepError, match="labelled with other teacher settings"):
        pseudolabel_folder(teacher, tmp_path / "in", tmp_path / "out", {"teacher": "htdemucs", "params": {}}, progress=False)


def test_real_musdb_track(real_track: Path, tmp_path: Path) -> None:
    summary = pseudolabel_folder(MixtureCopy(MixtureCopy.Config()), real_track.parent, tmp_path, SETTINGS, progress=False)
    assert summary.failed == [] and summary.written >= 1
    mixture, rate = read_audio(real_track / "mixture.wav")
    labelled, labelled_rate = read_audio(tmp_path / real_track.name / "vocals.wav")
    assert labelled_rate == rate == 44100 and torch.equal(labelled, mixture)
