"""SI-SDR and uSDR against hand-derived values."""

from __future__ import annotations

import math

import pytest
import torch

from tokensep_core.metrics import SISDR, USDR, MetricError


def _orthogonal_noise(reference: torch.Tensor, seed: int) -> torch.Tensor:
    """Noise with each channel exactly orthogonal to the reference channel."""
    noise = torch.randn(reference.shape, generator=torch.Generator().manual_seed(seed), dtype=torch.float64)
    coeff = (noise * reference).sum(-1, keepdim=True) / reference.square().sum(-1, keepdim=True)
    return noise - coeff * reference


def test_si_sdr_matches_closed_form_for_scaled_reference_plus_orthogonal_noise() -> None:
    reference = torch.randn(2, 8000, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    noise = _orthogonal_noise(reference, seed=1)
    scale = 0.7
    expected = 10 * torch.log10(scale**2 * reference.square().sum(-1) / noise.square().sum(-1)).mean()
    got = SISDR(SISDR.Config())(reference, scale * reference + noise, 16000)
    assert got == pytest.approx(float(expected), abs=1e-6)


def test_si_sdr_ignores_gain_and_ranks_noise() -> None:
    reference = torch.randn(1, 4000, generator=torch.Generator().manual_seed(2))
    metric = SISDR(SISDR.Config())
    noise = _orthogonal_noise(reference.double(), 3).float()
    assert metric(reference, 3 * reference + noise, 8000) == pytest.approx(metric(reference, reference + noise / 3, 8000), abs=1e-3)
    assert metric(reference, reference + 0.1 * noise, 8000) > metric(reference, reference + noise, 8000)


def test_usdr_is_mdx_whole_track_ratio() -> None:
    reference = torch.tensor([[1.0, -2.0, 0.5], [0.0, 1.0, 1.0]])
    error = torch.tensor([[0.1, 0.0, -0.2], [0.3, 0.0, 0.0]])
    # Σs² = 1 + 4 + 0.25 + 0 + 1 + 1 = 7.25; Σe² = 0.01 + 0.04 + 0.09 = 0.14
    expected = 10 * math.log10((7.25 + 1e-7) / (0.14 + 1e-7))
    assert USDR(USDR.Config())(reference, reference + error, 44100) == pytest.approx(expected, rel=1e-6)


def test_usdr_of_silent_reference_and_estimate_is_zero_db() -> None:
    silence = torch.zeros(2, 100)
    assert USDR(USDR.Config())(silence, silence, 44100) == 0.0


def test_shape_mismatch_is_a_one_line_error() -> None:
    with pytest.raises(MetricError, match="differ in shape"):
        USDR(USDR.Config())(torch.zeros(2, 10), torch.zeros(2, 11), 44100)
    with pytest.raises(MetricError, match=r"\[channels, samples\]"):
        SISDR(SISDR.Config())(torch.zeros(10), torch.zeros(10), 44100)
