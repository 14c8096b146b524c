"""Same seed and inputs, bit-identical tokens and stems on CPU: through generation, through
``GenerativeSeparator.separate`` and through ``tokensep separate`` in a fresh process."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import torch

from tokensep_core.audio.io import write_audio
from tokensep_core.cli.main import main
from tokensep_core.lm.ar_generation import generate
from tokensep_core.lm.sampling import SamplingConfig
from tokensep_core.separation.separator import GenerativeSeparator

REPO = Path(__file__).resolve().parents[2]


def _mixture(seed: int, channels: int = 2, samples: int = 2400) -> torch.Tensor:
    return 0.2 * torch.randn(channels, samples, generator=torch.Generator().manual_seed(seed))


def test_generation_gives_identical_tokens_for_the_same_seed(tiny_model: Path) -> None:
    pipeline = GenerativeSeparator.from_pretrained(tiny_model, device="cpu").pipeline
    encoder = pipeline.encoder
    with torch.inference_mode():
        prefix, mask = encoder(encoder.prepare(_mixture(0, 1, 1600).unsqueeze(0).repeat(3, 1, 1)))
        sampling = SamplingConfig(temperature=1.0)

        def tokens(seed: int) -> dict[str, torch.Tensor]:
            return generate(pipeline.lm, pipeline.token_layout, prefix, 6, mask, sampling, seed=seed)

        first, again, other = tokens(5), tokens(5), tokens(6)
    assert first.keys() == again.keys() == {"vocals", "drums", "bass", "other"}
    assert all(torch.equal(first[s], again[s]) for s in first)
    assert any(not torch.equal(first[s], other[s]) for s in first), "the seed must matter (else the test proves nothing)"


def test_separate_gives_identical_stems_for_the_same_seed(tiny_model: Path) -> None:
    mixture = _mixture(1)
    first = GenerativeSeparator.from_pretrained(tiny_model, device="cpu").separate(mixture, 16000)
    second_model = GenerativeSeparator.from_pretrained(tiny_model, device="cpu")
    second = second_model.separate(mixture, 16000)
    assert all(torch.equal(first[s], second[s]) for s in first)
    second_model.inference = second_model.inference.model_copy(update={"seed": 1})
    other = second_model.separate(mixture, 16000)
    assert any(not torch.equal(first[s], other[s]) for s in first)


def test_the_command_line_writes_identical_files_in_a_fresh_process(tiny_model: Path, tmp_path: Path) -> None:
    song = write_audio(tmp_path / "song.wav", _mixture(2), 16000)
    assert main(["separate", str(song), "-n", str(tiny_model), "-o", str(tmp_path / "here"), "--seed", "7"]) == 0
    subprocess.run(
        [
            sys.executable,
            "-m",
            "tokensep_core.cli.main",
            "separate",
            str(song),
            "-n",
            str(tiny_model),
            "-o",
            str(tmp_path / "there"),
            "--seed",
            "7",
        ],
        cwd=REPO,
        check=True,
        capture_output=True,
        timeout=300,
    )
    here = sorted((tmp_path / "here").rglob("*.wav"))
    there = sorted((tmp_path / "there").rglob("*.wav"))
    assert [p.name for p in here] == [p.name for p in there] == ["bass.wav", "drums.wav", "other.wav", "vocals.wav"]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(here, there))  # 16-bit PCM WAV: no timestamps inside
