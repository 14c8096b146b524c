"""The separator's LM must read the mixture: on songs whose stems are a fixed function of their
mixture, a tiny separator trained for a few seconds generates each song's own stems (not another
song's), and the held-out conditioning gain the trainer logs is clearly positive."""

from __future__ import annotations

import csv
import math
from pathlib import Path

import pytest
import torch
from pydantic import Field

from tokensep_core import STEMS
from tokensep_core.config import ComponentConfig
from tokensep_core.data.base import SegmentDataset
from tokensep_core.plugins import load_registry
from tokensep_core.registry import Provider
from tokensep_core.separation.conditioning import HeldOutItems, condition_losses, held_out_items
from tokensep_core.separation.separator import InferenceConfig
from tokensep_core.separation.training import build_separator_training
from tokensep_core.training import TrainerConfig, train

RATE, HOP, FRAMES = 16000, 320, 10


class ToneSongsConfig(ComponentConfig):
    songs: int = Field(4, ge=2)


class ToneSongs(SegmentDataset):
    """Song c: stem s is a sine at ``50 * (4 + 8c + 2s)`` Hz, so its mixture names every stem. The
    frequencies are multiples of the debug codec's frame rate (50 Hz): every frame holds the
    same samples, so each stem's codes are a fixed pattern per song."""

    Config = ToneSongsConfig
    stems, sample_rate, channels = STEMS, RATE, 1

    def __init__(self, config: ToneSongsConfig) -> None:
        self.count = config.songs

    def __len__(self) -> int:
        return self.count

    def name(self, index: int) -> str:
        return f"tones_{index}"

    def num_samples(self, index: int) -> int:
        return FRAMES * HOP

    def read_stem(self, index: int, stem: str, start: int, length: int) -> torch.Tensor:
        hz = 50 * (4 + 8 * index + 2 * self.stems.index(stem))
        t = torch.arange(start, start + length) / RATE
        return 0.2 * torch.sin(2 * math.pi * hz * t)[None]


SECTIONS = {
    "model": {
        "codec": {"name": "debug", "params": {"hop_length": HOP}},
        "encoder": {"name": "debug", "params": {"hop_length": HOP}},
        "lm": {"name": "llama", "params": {"preset": "tiny"}},
    },
    "data": {"name": "tone_songs"},
    "augment": {"seconds": FRAMES * HOP / RATE, "examples_per_epoch": 16, "remix_probability": 0.0, "gain_db": [0.0, 0.0]},
    "loss": {"label_smoothing": 0.0, "condition_dropout": 0.1},
    "validation": {"data": {"name": "tone_songs"}, "items": 4, "batch_size": 4},
}


def registry():
    found = load_registry()
    found.add("dataset", "tone_songs", ToneSongs, provider=Provider("tests", "0"))
    return found


def read_rows(run_dir: Path) -> list[dict[str, str]]:
    with (run_dir / "metrics.csv").open() as f:
        return list(csv.DictReader(f))


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("gain")
    task, examples = build_separator_training({k: dict(v) for k, v in SECTIONS.items()}, "gain.yaml", registry())
    config = TrainerConfig(steps=STEPS, batch_size=4, lr=3e-3, warmup_steps=10, log_every=10, eval_every=STEPS, checkpoint_every=0, device="cpu")
    result = train(task, config, run_dir, examples)
    return task, run_dir, result


STEPS = 150


def test_generated_codes_follow_their_own_mixture(trained):
    task, _, _ = trained
    pipeline, items = task.pipeline, task.held_out
    for module in pipeline.modules().values():
        module.eval()
    with torch.no_grad():
        codes, prefix, mask = task.encode({"mixture": items.mixture, "stems": items.stems}, items.sample_rate)
        inference = InferenceConfig(sampling={"greedy": True})
        lm = pipeline.lm
        out = lm.family.generate(lm, pipeline.token_layout, prefix, FRAMES, mask, inference, STEMS, 0)
    generated = torch.stack([out[s] for s in STEMS], 1)  # [B, S, K, T]
    reference = torch.stack([codes[s] for s in STEMS], 1)
    own = (generated == reference).float().mean().item()
    other = (generated == reference.roll(1, 0)).float().mean().item()
    chance_other = (reference == reference.roll(1, 0)).float().mean().item()
    print(f"own {own:.3f} other {other:.3f} (references agree on {chance_other:.3f})")
    assert own > 0.9 and own > other + 0.5


def test_the_logged_gain_is_clearly_positive(trained):
    _, run_dir, result = trained
    last = read_rows(run_dir)[-1]
    print({k: v for k, v in last.items() if k.startswith("eval/")})
    assert float(last["eval/gain_null"]) > 0.5 and float(last["eval/gain_shuffled"]) > 0.5
    assert float(last["eval/ce_true"]) < 0.5
    assert result.metrics["eval/gain_shuffled"] == pytest.approx(float(last["eval/gain_shuffled"]))
