"""A tiny condition encoder for unit tests: log-mel frames through one linear layer."""

from __future__ import annotations

from pydantic import Field
from torch import Tensor, nn

from tokensep_core.config import ComponentConfig
from tokensep_encoders.features import LogMelEncoder, frame_mask


class DebugEncoderConfig(ComponentConfig):
    sample_rate: int = Field(16000, gt=0)
    channels: int = Field(1, ge=1)
    n_mels: int = Field(16, ge=1)
    hop_length: int = Field(320, ge=1)
    output_dim: int = Field(32, ge=1)


class DebugEncoder(LogMelEncoder):
    """Log-mel of the mono mixture, one Linear to ``output_dim``; every step is valid."""

    Config = DebugEncoderConfig

    def __init__(self, config: DebugEncoderConfig) -> None:
        super().__init__(config, n_fft=4 * config.hop_length)
        self.proj = nn.Linear(config.n_mels, config.output_dim)

    def forward(self, features: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """log-mel [B, n_mels, P], lengths [B] -> (embeds [B, P, D], mask [B, P])."""
        return self.proj(features.transpose(1, 2)), frame_mask(features, lengths)
