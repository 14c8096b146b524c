"""mel_distance against values derived by hand."""

import math

import torch

from tokensep_core.metrics.mel import MelDistance, MelDistanceConfig


def tone(freq: float, seconds: float = 1.0, sample_rate: int = 16000) -> torch.Tensor:
    t = torch.arange(round(seconds * sample_rate)) / sample_rate
    return torch.sin(2 * math.pi * freq * t).unsqueeze(0)


def test_identical_is_zero_and_a_gain_shows_as_its_log_ratio() -> None:
    metric = MelDistance(MelDistanceConfig(floor=1e-12))
    reference = tone(440.0)
    assert metric(reference, reference.clone(), 16000) == 0.0
    # a gain g scales mel power by g², i.e. log10 power by 2 log10 g everywhere (floor negligible)
    assert abs(metric(reference, 0.1 * reference, 16000) - 2.0) < 1e-3


def test_a_wrong_pitch_is_further_than_a_phase_shift() -> None:
    metric = MelDistance(MelDistanceConfig())
    reference = tone(440.0)
    shifted = torch.roll(reference, 37, dims=-1)
    assert metric(reference, shifted, 16000) < 0.1 < metric(reference, tone(880.0), 16000)
