"""A light convolutional condition encoder (ablation): log-mel -> 1-D conv stack -> Linear."""

from __future__ import annotations

from pydantic import Field, field_validator
from torch import Tensor, nn

from tokensep_core.config import ComponentConfig
from tokensep_encoders.features import LogMelEncoder, frame_mask


class ConvEncoderConfig(ComponentConfig):
    sample_rate: int = Field(16000, gt=0)
    channels: int = Field(1, ge=1)
    n_mels: int = Field(80, ge=1)
    n_fft: int = Field(640, ge=2)
    hop_length: int = Field(320, ge=1)
    hidden: int = Field(256, ge=1)
    layers: int = Field(4, ge=1, description="residual conv blocks after the input conv")
    kernel_size: int = Field(5, ge=1, description="odd, so frames stay aligned")
    output_dim: int = Field(512, ge=1)

    @field_validator("kernel_size")
    @classmethod
    def _odd(cls, kernel_size: int) -> int:
        if kernel_size % 2 == 0:
            raise ValueError(f"kernel_size {kernel_size} must be odd")
        return kernel_size


class _ConvBlock(nn.Module):
    """x + GELU(GroupNorm(Conv1d(x))): [B, H, P] -> [B, H, P]."""

    def __init__(self, hidden: int, kernel_size: int) -> None:
        super().__init__()
        self.conv = nn.Conv1d(hidden, hidden, kernel_size, padding=kernel_size // 2)
        self.norm = nn.GroupNorm(1, hidden)
        self.act = nn.GELU()

    def forward(self, x: Tensor) -> Tensor:
        return x + self.act(self.norm(self.conv(x)))


class ConvEncoder(LogMelEncoder):
    """Log-mel [B, F, P] -> Conv1d -> residual conv blocks -> Linear [B, P, D]; no attention."""

    Config = ConvEncoderConfig

    def __init__(self, config: ConvEncoderConfig) -> None:
        super().__init__(config, n_fft=config.n_fft)
        self.norm = nn.LayerNorm(config.n_mels)
        self.in_conv = nn.Conv1d(config.n_mels, config.hidden, config.kernel_size, padding=config.kernel_size // 2)
        self.blocks = nn.Sequential(*(_ConvBlock(config.hidden, config.kernel_size) for _ in range(config.layers)))
        self.out_proj = nn.Linear(config.hidden, config.output_dim)

    def forward(self, features: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """log-mel [B, n_mels, P], lengths [B] -> (embeds [B, P, D], mask [B, P])."""
        mask = frame_mask(features, lengths)
        x = (self.norm(features.transpose(1, 2)) * mask.unsqueeze(-1)).transpose(1, 2)
        x = self.blocks(self.in_conv(x))
        return self.out_proj(x.transpose(1, 2)), mask
