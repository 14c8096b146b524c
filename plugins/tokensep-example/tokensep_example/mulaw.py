"""The classic 8-bit mu-law codec (as in WaveNet): one token per sample and channel."""

from __future__ import annotations

import torchaudio
from pydantic import Field
from torch import Tensor

from tokensep_core.config import ComponentConfig
from tokensep_core.interfaces import Codec


class MuLawCodecConfig(ComponentConfig):
    sample_rate: int = Field(8000, gt=0)
    channels: int = Field(1, ge=1)
    codebook_size: int = Field(256, ge=2)


class MuLawCodec(Codec):
    """Weight-free: each channel is one codebook stream, frame rate = sample rate."""

    Config = MuLawCodecConfig

    def __init__(self, config: MuLawCodecConfig) -> None:
        super().__init__()
        self.sample_rate = config.sample_rate
        self.channels = config.channels
        self.frame_rate = float(config.sample_rate)
        self.num_codebooks = config.channels
        self.codebook_size = config.codebook_size

    def encode(self, wav: Tensor) -> Tensor:
        """wav [B, C, T] -> codes [B, C, T] (K = C)."""
        return torchaudio.functional.mu_law_encoding(wav.clamp(-1, 1), self.codebook_size).long()

    def decode(self, codes: Tensor) -> Tensor:
        """codes [B, C, T] -> wav [B, C, T]."""
        return torchaudio.functional.mu_law_decoding(codes, self.codebook_size)
