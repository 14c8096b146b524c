"""Tiny HCodec with a light discriminator through the shared Trainer (two groups, checkpoint, resume)."""

import math

import pytest
import torch
from torch.utils.data import Dataset

from tokensep_codecs.hcodec import HCodec, HCodecConfig
from tokensep_codecs.training import CodecTrainingTask
from tokensep_core.training.config import TrainerConfig
from tokensep_core.training.trainer import Trainer


class Tones(Dataset):
    """Mono tones ``[1, T]`` at a few pitches."""

    def __len__(self) -> int:
        return 4

    def __getitem__(self, index: int) -> torch.Tensor:
        t = torch.arange(4000) / 16000
        return (0.3 * torch.sin(2 * math.pi * (110 + 55 * index) * t)).unsqueeze(0)


def _task() -> CodecTrainingTask:
    torch.manual_seed(0)
    config = HCodecConfig(preset="tiny", adversarial={"enabled": True, "periods": [], "fft_sizes": [256, 128]})
    return CodecTrainingTask(HCodec(config))


@pytest.mark.slow
def test_gan_codec_trains_checkpoints_and_resumes_exactly(tmp_path):
    config = TrainerConfig(steps=2, batch_size=2, checkpoint_every=1, log_every=1, device="cpu", lr=1e-3, decay="none")
    first = Trainer(_task(), config, tmp_path / "split", Tones()).fit()
    assert first.step == 2 and first.checkpoint is not None
    assert {"discriminator/discriminator", "generator/mel", "generator/adversarial"} <= set(first.metrics)
    assert all(math.isfinite(v) for v in first.metrics.values())

    longer = config.model_copy(update={"steps": 3})
    resumed = Trainer(_task(), longer, tmp_path / "split", Tones()).fit()
    straight = Trainer(_task(), longer, tmp_path / "straight", Tones()).fit()
    assert resumed.step == straight.step == 3
    for key in ("discriminator/discriminator", "generator/mel", "generator/adversarial", "generator/semantic"):
        assert resumed.metrics[key] == pytest.approx(straight.metrics[key], rel=1e-5), key
