"""A tiny trainable codec for unit tests: strided conv encoder, DAC's residual VQ, conv decoder."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from dac.nn.quantize import ResidualVectorQuantize
from pydantic import Field
from torch import Tensor, nn

from tokensep_codecs.losses import AdversarialConfig
from tokensep_core.config import ComponentConfig
from tokensep_core.interfaces import TrainableCodec, TrainOutput


class DebugCodecConfig(ComponentConfig):
    sample_rate: int = Field(16000, gt=0)
    channels: int = Field(1, ge=1)
    hop_length: int = Field(320, ge=2)
    num_codebooks: int = Field(2, ge=1)
    codebook_size: int = Field(64, ge=2)
    dim: int = Field(32, ge=4)


class DebugCodec(TrainableCodec):
    """One strided convolution down to frames, an RVQ, one transposed convolution back."""

    Config = DebugCodecConfig

    def __init__(self, config: DebugCodecConfig) -> None:
        super().__init__()
        self.config = config
        self.sample_rate = config.sample_rate
        self.channels = config.channels
        self.frame_rate = config.sample_rate / config.hop_length
        self.num_codebooks = config.num_codebooks
        self.codebook_size = config.codebook_size
        hop = config.hop_length
        self.encoder = nn.Conv1d(config.channels, config.dim, kernel_size=2 * hop, stride=hop, padding=hop // 2)
        self.quantizer = ResidualVectorQuantize(config.dim, config.num_codebooks, config.codebook_size, codebook_dim=8)
        self.decoder = nn.ConvTranspose1d(config.dim, config.channels, kernel_size=hop, stride=hop)

    def _latents(self, wav: Tensor) -> Tensor:
        """wav [B, C, T] -> latents [B, D, ceil(T / hop)]."""
        hop = self.config.hop_length
        frames = -(-wav.shape[-1] // hop)
        wav = F.pad(wav, (0, frames * hop - wav.shape[-1]))
        return self.encoder(wav)[..., :frames]

    def encode(self, wav: Tensor) -> Tensor:
        """wav [B, C, T] -> codes [B, K, ceil(T / hop)]."""
        _, codes, _, _, _ = self.quantizer(self._latents(wav))
        return codes.long()

    def decode(self, codes: Tensor) -> Tensor:
        """codes [B, K, T'] -> wav [B, C, T' * hop]."""
        z, _, _ = self.quantizer.from_codes(codes)
        return torch.tanh(self.decoder(z))

    @property
    def adversarial_config(self) -> AdversarialConfig:
        """Never adversarial."""
        return AdversarialConfig()

    def forward(self, wav: Tensor) -> TrainOutput:
        """wav [B, C, T] -> recon and target [B * C, 1, T]; L1 waveform reconstruction plus the
        quantizer's commitment and codebook losses."""
        z, codes, _, commitment, codebook = self.quantizer(self._latents(wav))
        recon = torch.tanh(self.decoder(z))[..., : wav.shape[-1]]
        losses = {"l1": F.l1_loss(recon, wav), "commitment": commitment, "codebook": codebook}
        return TrainOutput(recon.reshape(-1, 1, wav.shape[-1]), wav.reshape(-1, 1, wav.shape[-1]), losses, codes)
