"""A third LM family from a plugin, with no edit to tokensep's core: the frame classifier of
tests/plugins_toy/tokensep-toy-family, pip-installed as a real distribution (entry point group
``tokensep``), is built by the pipeline, trained with its family's objective, checked by the
conformance suite through ``check_lm`` and separates a song with ``tokensep separate``."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf
import torch

from tokensep_core.plugins import AUTOLOAD_ENV, load_registry
from tokensep_core.separation.training import build_separator_training
from tokensep_core.testing.conformance import ConformanceError, check_lm, check_registered
from tokensep_core.training import TrainerConfig, train

TOY = Path(__file__).resolve().parents[1] / "plugins_toy" / "tokensep-toy-family"
SECTIONS = {
    "model": {"codec": {"name": "debug"}, "encoder": {"name": "debug"}, "lm": {"name": "frame_classifier"}},
    "data": {"name": "synthetic", "params": {"songs": 2, "seconds": 1.0, "sample_rate": 16000, "seed": 3}},
    "augment": {"seconds": 0.25, "examples_per_epoch": 8},
    "inference": {"segment_seconds": 0.25, "batch_size": 8},
}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A folder holding a fresh pip install of the toy plugin."""
    target = tmp_path_factory.mktemp("toy_site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--target", str(target), str(TOY)],
        check=True,
        capture_output=True,
    )
    return target


@pytest.fixture
def installed(site: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """This process sees the toy plugin's distribution, as an installed one would be seen."""
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.delenv(AUTOLOAD_ENV, raising=False)
    return site


@pytest.mark.slow
def test_the_third_family_trains_passes_conformance_and_separates_from_the_cli(installed: Path, tmp_path: Path) -> None:
    registry = load_registry()
    entry = registry.get("lm", "frame_classifier")
    assert (entry.provider.name, entry.provider.version) == ("tokensep-toy-family", "0.1.0")

    task, examples = build_separator_training({k: dict(v) for k, v in SECTIONS.items()}, "toy.yaml", registry)
    lm = task.pipeline.lm
    assert lm.family.name == "frame" and task.pipeline.token_layout is None
    assert (lm.num_codebooks, lm.codebook_size) == (task.pipeline.codec.num_codebooks, task.pipeline.codec.codebook_size)

    # the family's objective: finite, gradients reach the LM, and it falls on a fixed batch
    items = [examples[i] for i in range(2)]
    batch = {key: torch.stack([item[key] for item in items]) for key in ("mixture", "stems")}
    optimizer = torch.optim.Adam(lm.parameters(), lr=1e-2)
    losses = []
    for _ in range(5):
        loss = task.losses("model", batch, {})["ce"]
        optimizer.zero_grad()
        loss.backward()
        assert lm.head.weight.grad is not None and lm.head.weight.grad.abs().sum() > 0
        optimizer.step()
        losses.append(loss.item())
    assert all(torch.isfinite(torch.tensor(losses))) and losses[-1] < losses[0]

    # the conformance suite runs the family's own check, through check_lm
    check_registered("lm", "frame_classifier")
    broken = type(lm)(type(lm).Config(stems=("vocals",)))
    broken.forward = lambda prefix, mask, frames, stems: torch.zeros(1)
    with pytest.raises(ConformanceError, match="frame lm: expected logits"):
        check_lm(broken)

    run_dir = tmp_path / "run"
    train(task, TrainerConfig(steps=2, batch_size=2, lr=3e-3, warmup_steps=1, checkpoint_every=0, log_every=1), run_dir, examples)
    song = tmp_path / "song.wav"
    sf.write(str(song), 0.1 * torch.randn(5000, 2, generator=torch.Generator().manual_seed(0)).numpy(), 16000)
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(installed), os.environ.get("PYTHONPATH")]))}
    env.pop(AUTOLOAD_ENV, None)
    result = subprocess.run(
        [sys.executable, "-m", "tokensep_core.cli.main", "separate", str(song), "-n", str(run_dir), "-o", str(tmp_path / "out")],
        env=env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    written = sorted((tmp_path / "out" / "run" / "song").iterdir())
    assert [p.name for p in written] == ["bass.wav", "drums.wav", "other.wav", "vocals.wav"]
    for path in written:
        info = sf.info(str(path))
        assert (info.samplerate, info.channels, info.frames) == (16000, 2, 5000)
        assert sf.read(str(path))[0].std() > 0
