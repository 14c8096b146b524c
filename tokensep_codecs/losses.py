"""Codec training losses shared by the trainable codecs (descript-audio-codec's loss modules)."""

from __future__ import annotations

from audiotools import AudioSignal
from dac.model.discriminator import Discriminator
from dac.nn.loss import L1Loss, MelSpectrogramLoss, MultiScaleSTFTLoss
from pydantic import Field, model_validator
from torch import Tensor, nn

from tokensep_core.config import ComponentConfig
from tokensep_core.deprecations import dac_deprecations_silenced
from tokensep_core.errors import ConfigError


class ReconstructionConfig(ComponentConfig):
    """Weights and resolutions of the reconstruction terms (0 turns a term off)."""

    mel_weight: float = Field(15.0, ge=0)
    mel_window_lengths: list[int] = [32, 64, 128, 256, 512, 1024, 2048]
    mel_n_mels: list[int] = [5, 10, 20, 40, 80, 160, 320]
    stft_weight: float = Field(1.0, ge=0)
    stft_window_lengths: list[int] = [2048, 512]
    waveform_weight: float = Field(1.0, ge=0)
    commitment_weight: float = Field(0.25, ge=0)
    codebook_weight: float = Field(1.0, ge=0)

    @model_validator(mode="after")
    def _same_lengths(self) -> ReconstructionConfig:
        if len(self.mel_window_lengths) != len(self.mel_n_mels):
            raise ValueError("mel_window_lengths and mel_n_mels must have the same length")
        return self


class AdversarialConfig(ComponentConfig):
    """descript-audio-codec's multi-period / multi-scale / multi-resolution discriminator.

    The library default (periods 2..11, FFT 2048/1024/512) has 42.5 M parameters; each period
    discriminator alone has ~8.2 M (1024 channels), so the default here is the light, CPU-friendly
    multi-resolution (STFT) part only; add ``periods`` on a GPU."""

    enabled: bool = False
    periods: list[int] = []
    rates: list[int] = []
    fft_sizes: list[int] = [512, 256]
    generator_weight: float = Field(1.0, ge=0)
    feature_weight: float = Field(2.0, ge=0)

    def build(self, sample_rate: int) -> Discriminator:
        """The discriminator; it takes mono items ``[N, 1, T]``."""
        with dac_deprecations_silenced():  # dac builds it with the deprecated weight_norm
            return Discriminator(
                rates=list(self.rates), periods=list(self.periods), fft_sizes=list(self.fft_sizes), sample_rate=sample_rate
            )


class ReconstructionLoss(nn.Module):
    """Multi-resolution mel + multi-scale STFT + waveform L1, weighted (see ReconstructionConfig)."""

    def __init__(self, config: ReconstructionConfig, sample_rate: int) -> None:
        super().__init__()
        self.config = config
        self.sample_rate = sample_rate
        self.mel = MelSpectrogramLoss(
            n_mels=list(config.mel_n_mels),
            window_lengths=list(config.mel_window_lengths),
            mel_fmin=[0.0] * len(config.mel_n_mels),
            mel_fmax=[None] * len(config.mel_n_mels),
            mag_weight=0.0,
            pow=1.0,
        )
        self.stft = MultiScaleSTFTLoss(window_lengths=list(config.stft_window_lengths))
        self.waveform = L1Loss()

    def forward(self, recon: Tensor, target: Tensor) -> dict[str, Tensor]:
        """recon, target ``[N, 1, T]`` -> weighted terms ``{"mel", "stft", "waveform"}`` (non-zero weights)."""
        c = self.config
        window = max([*c.mel_window_lengths, *c.stft_window_lengths])
        if target.shape[-1] <= window // 2:
            raise ConfigError(
                f"training crops of {target.shape[-1]} samples are too short for the loss window {window} "
                "(reconstruction.mel_window_lengths / stft_window_lengths): use longer crops or smaller windows"
            )
        x, y = AudioSignal(recon, self.sample_rate), AudioSignal(target, self.sample_rate)
        terms = {}
        if c.mel_weight:
            terms["mel"] = c.mel_weight * self.mel(x, y)
        if c.stft_weight:
            terms["stft"] = c.stft_weight * self.stft(x, y)
        if c.waveform_weight:
            terms["waveform"] = c.waveform_weight * self.waveform(x, y)
        return terms

    def quantizer_terms(self, commitment: Tensor, codebook: Tensor, prefix: str = "") -> dict[str, Tensor]:
        """Weighted ``{prefix}commitment`` and ``{prefix}codebook`` terms."""
        return {
            f"{prefix}commitment": self.config.commitment_weight * commitment,
            f"{prefix}codebook": self.config.codebook_weight * codebook,
        }
