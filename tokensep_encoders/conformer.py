"""The paper's conditional encoder: log-mel of the mixture -> Linear -> Conformer -> Linear."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, model_validator
from torch import Tensor, nn
from torchaudio.models import Conformer

from tokensep_core.config import ComponentConfig
from tokensep_encoders.features import LogMelEncoder, frame_mask

PRESETS: dict[str, dict[str, float | int]] = {
    "tiny": {"dim": 32, "layers": 2, "heads": 2, "conv_kernel": 7, "dropout": 0.0},
    "small": {"dim": 256, "layers": 4, "heads": 4, "conv_kernel": 31, "dropout": 0.1},
    "paper": {"dim": 512, "layers": 6, "heads": 8, "conv_kernel": 31, "dropout": 0.1},
}
"""Architecture presets; ``paper`` follows the likely settings in REFERENCES.md."""


class ConformerEncoderConfig(ComponentConfig):
    preset: Literal["tiny", "small", "paper"] = "paper"
    sample_rate: int = Field(16000, gt=0)
    channels: int = Field(1, ge=1)
    n_mels: int = Field(80, ge=1)
    n_fft: int = Field(640, ge=2)
    hop_length: int = Field(320, ge=1)
    output_dim: int = Field(512, ge=1, description="prefix width: the LM's dim")
    dim: int | None = Field(None, ge=1, description="Conformer width; None: the preset's")
    layers: int | None = Field(None, ge=1)
    heads: int | None = Field(None, ge=1)
    ffn_mult: float = Field(4.0, gt=0)
    conv_kernel: int | None = Field(None, ge=1, description="depthwise convolution kernel (odd)")
    dropout: float | None = Field(None, ge=0, lt=1)

    def resolved(self, key: str) -> float | int:
        """An explicit field, else the preset's value."""
        value = getattr(self, key)
        return PRESETS[self.preset][key] if value is None else value

    @model_validator(mode="after")
    def _consistent(self) -> ConformerEncoderConfig:
        dim, heads = int(self.resolved("dim")), int(self.resolved("heads"))
        if dim % heads:
            raise ValueError(f"dim {dim} is not divisible by heads {heads}")
        if int(self.resolved("conv_kernel")) % 2 == 0:
            raise ValueError(f"conv_kernel {self.resolved('conv_kernel')} must be odd")
        return self


class ConformerEncoder(LogMelEncoder):
    """Log-mel [B, F, P] -> normalised -> Linear -> torchaudio Conformer -> Linear [B, P, D]."""

    Config = ConformerEncoderConfig

    def __init__(self, config: ConformerEncoderConfig) -> None:
        super().__init__(config, n_fft=config.n_fft)
        dim, heads = int(config.resolved("dim")), int(config.resolved("heads"))
        self.norm = nn.LayerNorm(config.n_mels)
        self.in_proj = nn.Linear(config.n_mels, dim)
        self.conformer = Conformer(
            input_dim=dim,
            num_heads=heads,
            ffn_dim=int(config.ffn_mult * dim),
            num_layers=int(config.resolved("layers")),
            depthwise_conv_kernel_size=int(config.resolved("conv_kernel")),
            dropout=float(config.resolved("dropout")),
        )
        self.out_proj = nn.Linear(dim, config.output_dim)

    def forward(self, features: Tensor, lengths: Tensor | None = None) -> tuple[Tensor, Tensor]:
        """log-mel [B, n_mels, P], lengths [B] -> (embeds [B, P, D], mask [B, P])."""
        mask = frame_mask(features, lengths)
        x = self.norm(features.transpose(1, 2)) * mask.unsqueeze(-1)
        lengths = mask.sum(dim=1)
        x, _ = self.conformer(self.in_proj(x), lengths)
        return self.out_proj(x), mask
