"""ViSQOL v3 audio mode: near its maximum for identical signals, monotonic in added noise."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tokensep_core.audio.io import read_audio
from tokensep_core.metrics import ViSQOL

pytest.importorskip("visqol")


@pytest.mark.slow
def test_identical_is_near_max_and_noise_lowers_the_score(real_track: Path) -> None:
    wav, sr = read_audio(real_track / "vocals.wav")
    reference = wav[:, : 3 * sr]
    noise = torch.randn(reference.shape, generator=torch.Generator().manual_seed(0))
    power = reference.square().mean()
    metric = ViSQOL(ViSQOL.Config())
    scores = [metric(reference, reference.clone(), sr)]
    for snr_db in (30, 15, 5):
        scores.append(metric(reference, reference + noise * (power / 10 ** (snr_db / 10)).sqrt(), sr))
    assert scores[0] > 4.6  # ViSQOL audio's ceiling is about 4.73
    assert scores == sorted(scores, reverse=True) and scores[0] - scores[-1] > 2.0


@pytest.mark.slow
def test_per_channel_mode_averages_channel_scores() -> None:
    sr = 16000
    gen = torch.Generator().manual_seed(1)
    t = torch.arange(2 * sr) / sr
    reference = torch.stack([torch.sin(2 * torch.pi * f * t) * (1 + torch.sin(2 * torch.pi * 3 * t)) for f in (330, 440)]) * 0.3
    estimate = reference + torch.stack([0.001 * torch.randn(2 * sr, generator=gen), 0.1 * torch.randn(2 * sr, generator=gen)])
    per_channel = ViSQOL(ViSQOL.Config(channels="per_channel"))
    left = per_channel(reference[:1], estimate[:1], sr)
    right = per_channel(reference[1:], estimate[1:], sr)
    assert left > right
    assert per_channel(reference, estimate, sr) == pytest.approx((left + right) / 2, abs=1e-9)


def test_too_short_clip_is_a_metric_error_not_a_crash() -> None:
    from tokensep_core.metrics.common import MetricError

    metric = ViSQOL(ViSQOL.Config())
    clip = 0.1 * torch.randn(1, 1600, generator=torch.Generator().manual_seed(0))
    with pytest.raises(MetricError, match="visqol: cannot score 0.10 s"):
        metric(clip, clip, 16000)
