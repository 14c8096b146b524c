"""Tiny teacher configurations and a synthetic stereo mixture shared by the teacher tests."""

from __future__ import annotations

import math

import torch

TINY_HTDEMUCS = dict(segment=0.5, channels_hidden=8, depth=3, nfft=256, t_layers=1, t_heads=2, dconv_comp=4, device="cpu")
TINY_BS_ROFORMER = dict(
    segment=0.5,
    dim=16,
    depth=1,
    heads=2,
    dim_head=8,
    time_transformer_depth=1,
    freq_transformer_depth=1,
    mask_estimator_depth=1,
    num_residual_streams=1,
    device="cpu",
)


def synthetic_mixture(seconds: float, sample_rate: int = 44100, channels: int = 2, seed: int = 0) -> torch.Tensor:
    """A chord plus noise bursts on the beat: ``[C, T]`` float32."""
    gen = torch.Generator().manual_seed(seed)
    t = torch.arange(round(seconds * sample_rate)) / sample_rate
    chord = sum(0.1 * torch.sin(2 * math.pi * f * t) for f in (110.0, 220.0, 329.6))
    beat = torch.exp(-40 * (t % 0.5)) * torch.randn(t.shape, generator=gen) * 0.2
    wav = (chord + beat).expand(channels, -1).clone()
    return wav * torch.linspace(0.8, 1.0, channels).unsqueeze(1)
