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


def test_codec_training_logs_per_codebook_perplexity_without_optimising_it(tmp_path):
    """metrics.csv gets generator/perplexity_<k> for the 2 + 2 codebooks of the forward's codes;
    the optimised total is still the sum of the loss terms alone."""
    import csv

    from tokensep_core.tokens.health import code_histogram, codebook_perplexity

    torch.manual_seed(0)
    task = CodecTrainingTask(HCodec(HCodecConfig(preset="tiny")))
    batch = torch.stack([Tones()[i] for i in range(2)])
    state: dict = {}
    terms = task.losses("generator", batch, state)
    logged = task.metrics("generator", state)
    codes = state["codec_output"][1].codes
    assert codes.shape == (2, 4, 25)  # [N, 2 acoustic + 2 semantic, 4000 / 160 frames]
    expected = codebook_perplexity(code_histogram(codes, 64))
    assert [float(v) for v in logged.values()] == pytest.approx(expected.tolist())
    assert task.metrics("discriminator", state) == {} and not set(logged) & set(terms)

    config = TrainerConfig(steps=2, batch_size=2, checkpoint_every=0, log_every=1, device="cpu", lr=1e-3, decay="none")
    result = Trainer(task, config, tmp_path / "run", Tones()).fit()
    names = [f"generator/perplexity_{k}" for k in range(4)]
    with (tmp_path / "run" / "metrics.csv").open() as f:
        rows = list(csv.DictReader(f))
    assert len(rows) == 2 and all(1.0 <= float(row[name]) <= 64 for row in rows for name in names)
    loss_terms = [k for k in result.metrics if k.startswith("generator/") and k.split("/")[1] not in {"total", "grad_norm", "lr"}]
    loss_terms = [k for k in loss_terms if k not in names]
    assert result.metrics["generator/total"] == pytest.approx(sum(result.metrics[k] for k in loss_terms), rel=1e-5)
