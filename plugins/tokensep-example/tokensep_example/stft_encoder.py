"""A small condition encoder over the log-magnitude STFT of the mixture."""

from __future__ import annotations

import torch
from pydantic import Field
from torch import Tensor, nn

from tokensep_core.config import ComponentConfig
from tokensep_core.interfaces import ConditionEncoder


class StftEncoderConfig(ComponentConfig):
    sample_rate: int = Field(8000, gt=0)
    channels: int = Field(1, ge=1)
    n_fft: int = Field(256, ge=8)
    hop_length: int = Field(160, ge=1)
    hidden: int = Field(64, ge=1)
    output_dim: int = Field(32, ge=1)


class StftEncoder(ConditionEncoder):
    """log|STFT| of each channel, stacked, through a two-layer MLP per frame."""

    Config = StftEncoderConfig

    def __init__(self, config: StftEncoderConfig) -> None:
        super().__init__()
        self.config = config
        self.sample_rate = config.sample_rate
        self.channels = config.channels
        self.output_dim = config.output_dim
        self.frame_rate = config.sample_rate / config.hop_length
        self.register_buffer("window", torch.hann_window(config.n_fft), persistent=False)
        bins = (config.n_fft // 2 + 1) * config.channels
        self.mlp = nn.Sequential(nn.Linear(bins, config.hidden), nn.GELU(), nn.Linear(config.hidden, config.output_dim))

    def prepare(self, wav: Tensor) -> Tensor:
        """wav [B, C, T] -> log-magnitude [B, C * (n_fft/2+1), T // hop + 1]."""
        batch, channels, length = wav.shape
        spec = torch.stft(
            wav.reshape(batch * channels, length), self.config.n_fft, self.config.hop_length, window=self.window, return_complex=True
        )
        return torch.log1p(spec.abs()).reshape(batch, -1, spec.shape[-1])

    def forward(self, features: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """features [B, F, P] (``lengths`` [B] valid frames) -> (embeds [B, P, D], mask [B, P])."""
        embeds = self.mlp(features.transpose(1, 2))
        steps = torch.arange(embeds.shape[1], device=embeds.device)
        mask = steps < lengths.unsqueeze(1) if lengths is not None else torch.ones(embeds.shape[:2], dtype=torch.bool, device=embeds.device)
        return embeds, mask
