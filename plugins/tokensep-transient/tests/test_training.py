"""Each variant trains through CodecTrainingTask: its extra terms are present, finite and lower
after a few steps on a fixed click track; the extra parts receive gradients."""

import pytest
import torch

from tokensep_codecs.training import CodecTrainingTask
from tokensep_core.plugins import load_registry

NAMES = ["hcodec_dual_rate", "hcodec_onset_tokens", "hcodec_transient_loss"]

EXTRA_TERMS = {
    "hcodec_transient_loss": {"transient_stft", "onset_l1", "mel"},
    "hcodec_dual_rate": {"high_mel", "high_stft", "high_waveform", "high_commitment", "high_codebook", "mel"},
    "hcodec_onset_tokens": {"sharp_mel", "sharp_stft", "sharp_waveform", "mel"},
}
EXTRA_PART = {"hcodec_transient_loss": "acoustic_encoder", "hcodec_dual_rate": "high_encoder", "hcodec_onset_tokens": "to_gain"}


@pytest.mark.parametrize("name", NAMES)
def test_few_steps_lower_the_loss(name: str, tiny, clicks) -> None:
    torch.manual_seed(0)
    task = CodecTrainingTask(load_registry().build("codec", {"name": name, "params": tiny[name]}))
    optimizer = torch.optim.Adam(task.optimizer_groups()["generator"], lr=3e-3)
    batch = {"wav": clicks(4000, [500, 1700, 2900], batch=2) + 0.05 * torch.sin(torch.arange(4000) * 0.1)}
    totals = []
    for step in range(6):
        losses = task.losses("generator", batch, {})
        assert EXTRA_TERMS[name] <= set(losses) and all(torch.isfinite(v) for v in losses.values())
        optimizer.zero_grad()
        total = sum(losses.values())
        total.backward()
        if step == 0:
            part = getattr(task.codec, EXTRA_PART[name])
            assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in part.parameters())
        optimizer.step()
        totals.append(total.item())
    assert totals[-1] < totals[0], totals
