"""Adapter over descript-audio-codec's ``dac.DAC`` (any configuration; local weights)."""

from __future__ import annotations

import math
from pathlib import Path

import torch.nn.functional as F
from dac import DAC
from pydantic import Field, model_validator
from torch import Tensor

from tokensep_codecs.codebook_restart import CodebookRestart, CodebookRestartConfig
from tokensep_codecs.losses import AdversarialConfig, ReconstructionConfig, ReconstructionLoss
from tokensep_core.audio.channels import StereoMode, fold_channels, fold_codes, unfold_channels, unfold_codes
from tokensep_core.audio.length import fit_length
from tokensep_core.config import ComponentConfig
from tokensep_core.errors import CheckpointError
from tokensep_core.interfaces import TrainableCodec, TrainOutput
from tokensep_core.runtime.weights import load_into, read_weights

ARCHITECTURE_FIELDS = (
    "encoder_dim",
    "encoder_rates",
    "latent_dim",
    "decoder_dim",
    "decoder_rates",
    "n_codebooks",
    "codebook_size",
    "codebook_dim",
    "sample_rate",
)


class DACCodecConfig(ComponentConfig):
    """``dac.DAC`` arguments (defaults: the official 44.1 kHz model), channels, and training losses.

    ``weights``: a local file of the official format (``{"state_dict", "metadata": {"kwargs"}}``,
    read with ``weights_only=True``) or a ``.safetensors`` state dict. When the file records
    its architecture, it must match these fields."""

    encoder_dim: int = Field(64, ge=1)
    encoder_rates: list[int] = Field([2, 4, 8, 8], min_length=1)
    latent_dim: int | None = Field(None, ge=1, description="default encoder_dim * 2 ** len(encoder_rates)")
    decoder_dim: int = Field(1536, ge=1)
    decoder_rates: list[int] = Field([8, 8, 4, 2], min_length=1)
    n_codebooks: int = Field(9, ge=1)
    codebook_size: int = Field(1024, ge=2)
    codebook_dim: int = Field(8, ge=1)
    quantizer_dropout: float = Field(0.0, ge=0, le=1)
    sample_rate: int = Field(44100, gt=0)
    channels: int = Field(1, ge=1)
    stereo_mode: StereoMode = "per_channel"
    n_quantizers: int | None = Field(None, ge=1, description="codebooks used by encode/decode; default all")
    weights: Path | None = None
    reconstruction: ReconstructionConfig = ReconstructionConfig()
    adversarial: AdversarialConfig = AdversarialConfig()
    codebook_restart: CodebookRestartConfig = CodebookRestartConfig()

    @model_validator(mode="after")
    def _check(self) -> DACCodecConfig:
        if math.prod(self.encoder_rates) != math.prod(self.decoder_rates):
            raise ValueError(f"encoder_rates {self.encoder_rates} and decoder_rates {self.decoder_rates} have different products")
        if self.n_quantizers is not None and self.n_quantizers > self.n_codebooks:
            raise ValueError(f"n_quantizers {self.n_quantizers} > n_codebooks {self.n_codebooks}")
        if self.stereo_mode == "mid_side" and self.channels != 2:
            raise ValueError(f"stereo_mode mid_side needs channels=2, got {self.channels}")
        return self


class DACCodec(TrainableCodec):
    """descript-audio-codec's DAC, any configuration, local weights.

    DAC is mono: channels are folded into the batch and codes laid out channel-major
    (``num_codebooks = channels * n_quantizers``, see tokensep_core.audio.channels)."""

    Config = DACCodecConfig

    def __init__(self, config: DACCodecConfig) -> None:
        super().__init__()
        self.config = config
        self.model = DAC(
            encoder_dim=config.encoder_dim,
            encoder_rates=list(config.encoder_rates),
            latent_dim=config.latent_dim,
            decoder_dim=config.decoder_dim,
            decoder_rates=list(config.decoder_rates),
            n_codebooks=config.n_codebooks,
            codebook_size=config.codebook_size,
            codebook_dim=config.codebook_dim,
            quantizer_dropout=config.quantizer_dropout,
            sample_rate=config.sample_rate,
        )
        if config.weights is not None:
            self._load(config.weights)
        self.sample_rate = config.sample_rate
        self.channels = config.channels
        self.frame_rate = config.sample_rate / math.prod(config.encoder_rates)
        self.codebook_size = config.codebook_size
        self.used_codebooks = config.n_quantizers or config.n_codebooks
        self.num_codebooks = config.channels * self.used_codebooks
        self.reconstruction = ReconstructionLoss(config.reconstruction, config.sample_rate)
        # built even when off, so weights load whatever the setting (see CodebookRestart); official
        # weights load into self.model and never see it
        self.restart = CodebookRestart(self.model.quantizer, config.codebook_restart)

    @property
    def adversarial_config(self) -> AdversarialConfig:
        return self.config.adversarial

    def _load(self, path: Path) -> None:
        data = read_weights(path, "DAC weights")
        recorded = data.get("metadata", {}).get("kwargs", {}) if isinstance(data.get("metadata"), dict) else {}
        for field in ARCHITECTURE_FIELDS:
            if field in recorded and recorded[field] is not None and getattr(self.config, field) is not None:
                mine, theirs = getattr(self.config, field), recorded[field]
                if (list(mine) if isinstance(mine, list) else mine) != (list(theirs) if isinstance(theirs, (list, tuple)) else theirs):
                    raise CheckpointError(f"{path}: weights were saved with {field}={theirs}, the config has {field}={mine}")
        load_into(self.model, data.get("state_dict", data), path, "DAC weights")

    def _prepare(self, wav: Tensor) -> tuple[Tensor, int]:
        if wav.dim() != 3 or wav.shape[1] != self.channels:
            raise ValueError(f"DAC codec expects wav [B, {self.channels}, T], got {list(wav.shape)}")
        hop = self.hop_length
        frames = -(-wav.shape[-1] // hop)
        mono = fold_channels(wav, self.config.stereo_mode)
        return F.pad(mono, (0, frames * hop - wav.shape[-1])), frames

    def encode(self, wav: Tensor) -> Tensor:
        """wav ``[B, C, T]`` -> codes ``[B, C * n_quantizers, ceil(T / hop)]``."""
        mono, _ = self._prepare(wav)
        codes = self.model.encode(mono, n_quantizers=self.used_codebooks)[1][:, : self.used_codebooks]
        return unfold_codes(codes.long(), self.channels)

    def decode(self, codes: Tensor) -> Tensor:
        """codes ``[B, num_codebooks, T']`` -> wav ``[B, C, T' * hop]`` via ``quantizer.from_codes``."""
        if codes.dim() != 3 or codes.shape[1] != self.num_codebooks:
            raise ValueError(f"DAC codec expects codes [B, {self.num_codebooks}, T'], got {list(codes.shape)}")
        z = self.model.quantizer.from_codes(fold_codes(codes, self.channels))[0]
        wav = fit_length(self.model.decode(z), codes.shape[-1] * self.hop_length)
        return unfold_channels(wav, self.channels, self.config.stereo_mode)

    def forward(self, wav: Tensor) -> TrainOutput:
        """One training forward on wav ``[B, C, T]`` (non-adversarial weighted terms)."""
        mono, _ = self._prepare(wav)
        z, codes, latents, commitment, codebook = self.model.encode(mono)
        if self.training and self.config.codebook_restart.enabled:
            self.restart.update(self.model.quantizer, codes, latents)
        length = wav.shape[-1]
        recon, target = fit_length(self.model.decode(z), length), mono[..., :length]
        losses = self.reconstruction(recon, target)
        losses.update(self.reconstruction.quantizer_terms(commitment, codebook))
        return TrainOutput(recon, target, losses, codes)
