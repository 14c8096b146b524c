"""A tiny condition encoder for unit tests: log-mel frames through one linear layer."""

from __future__ import annotations

from pydantic import Field
from torch import Tensor, nn

from tokensep_core.config import ComponentConfig
from tokensep_core.interfaces import ConditionEncoder
from tokensep_encoders.features import LogMel, frame_mask


class DebugEncoderConfig(ComponentConfig):
    sample_rate: int = Field(16000, gt=0)
    channels: int = Field(1, ge=1)
    n_mels: int = Field(16, ge=1)
    hop_length: int = Field(320, ge=1)
    output_dim: int = Field(32, ge=1)


class DebugEncoder(ConditionEncoder):
    """Log-mel of the mono mixture, one Linear to ``output_dim``; every step is valid."""

    Config = DebugEncoderConfig

    def __init__(self, config: DebugEncoderConfig) -> None:
        super().__init__()
        self.config = config
        self.sample_rate = config.sample_rate
        self.channels = config.channels
        self.output_dim = config.output_dim
        self.frame_rate = config.sample_rate / config.hop_length
        self.features = LogMel(config.sample_rate, 4 * config.hop_length, config.hop_length, config.n_mels)
        self.proj = nn.Linear(config.n_mels, config.output_dim)

    def prepare(self, wav: Tensor) -> Tensor:
        """wav [B, C, T] -> log-mel [B, n_mels, T // hop + 1]."""
        return self.features(wav)

    def feature_lengths(self, num_samples: Tensor) -> Tensor:
        """Valid samples [B] -> valid feature frames [B]."""
        return self.features.num_frames(num_samples)

    def forward(self, features: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """log-mel [B, n_mels, P], lengths [B] -> (embeds [B, P, D], mask [B, P])."""
        return self.proj(features.transpose(1, 2)), frame_mask(features, lengths)
