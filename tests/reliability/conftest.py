"""A tiny separator checkpoint (2 training steps, 16 kHz debug codec, tiny LLaMA) whose stored
inference settings use very short segments, so each separation in these tests takes ~1 s."""

from __future__ import annotations

from pathlib import Path

import pytest

from tokensep_core.separation.training import build_separator_training
from tokensep_core.training import TrainerConfig, train

SECTIONS = {
    "model": {"codec": {"name": "debug"}, "encoder": {"name": "debug"}, "lm": {"name": "llama", "params": {"preset": "tiny"}}},
    "data": {"name": "synthetic", "params": {"songs": 2, "seconds": 1.0, "sample_rate": 16000, "seed": 3}},
    "augment": {"seconds": 0.25, "examples_per_epoch": 8},
    "inference": {"segment_seconds": 0.04, "batch_size": 64},
}


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A run directory holding one complete separator checkpoint."""
    run_dir = tmp_path_factory.mktemp("reliability_model")
    task, examples = build_separator_training({k: dict(v) for k, v in SECTIONS.items()}, "tiny.yaml")
    train(task, TrainerConfig(steps=2, batch_size=2, lr=3e-3, warmup_steps=1, checkpoint_every=0, log_every=1), run_dir, examples)
    return run_dir
