"""Fixtures of the codec tests."""

import math
from collections.abc import Callable

import pytest
import torch


def _tone(seconds: float, sample_rate: int, channels: int = 1, batch: int = 1) -> torch.Tensor:
    """A fixed two-partial tone with a slow amplitude wobble, ``[batch, channels, T]``."""
    t = torch.arange(round(seconds * sample_rate)) / sample_rate
    base = 0.3 * torch.sin(2 * math.pi * 220 * t) + 0.15 * torch.sin(2 * math.pi * 660 * t + 0.5)
    base = base * (0.75 + 0.25 * torch.sin(2 * math.pi * 3 * t))
    chans = [base * (1.0 - 0.3 * c) for c in range(channels)]
    return torch.stack(chans).unsqueeze(0).repeat(batch, 1, 1)


@pytest.fixture
def tone() -> Callable[..., torch.Tensor]:
    return _tone


@pytest.fixture(autouse=True)
def single_thread():
    """Tiny models run faster on one thread, and far faster when other jobs share the CPU."""
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


TINY_CODEC = {"name": "hcodec", "params": {"preset": "tiny"}}


@pytest.fixture(scope="session")
def tiny_songs(tmp_path_factory: pytest.TempPathFactory):
    """A MUSDB-layout folder of 3 synthetic songs of 1.5 s at 16 kHz (2 train, 1 test)."""
    from tokensep_core.data.writer import write_synthetic_dataset
    from tokensep_core.plugins import load_registry

    root = tmp_path_factory.mktemp("codec_songs")
    renderer = load_registry().build("renderer", "procedural")
    write_synthetic_dataset(root, 3, 1.5, 16000, 7, renderer, test_fraction=0.34, progress=False)
    return root


@pytest.fixture(scope="session")
def tiny_codec_run(tiny_songs, tmp_path_factory: pytest.TempPathFactory):
    """Run directory of a tiny HCodec trained for 2 steps on ``tiny_songs``."""
    from tokensep_codecs.training import build_codec_training
    from tokensep_core.training import TrainerConfig, train

    run_dir = tmp_path_factory.mktemp("codec_run")
    sections = {
        "codec": TINY_CODEC,
        "data": {"name": "musdb", "params": {"root": str(tiny_songs), "sample_rate": 16000}},
        "augment": {"seconds": 0.5, "examples_per_epoch": 4},
    }
    task, examples = build_codec_training(sections, "tiny codec")
    train(task, TrainerConfig(steps=2, batch_size=1, checkpoint_every=0, device="cpu", lr=1e-3), run_dir, examples)
    return run_dir
