"""Adapter over Meta's ``encodec`` package: the architecture is built offline, weights are local."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any, Literal

import torch.nn.functional as F
from encodec import EncodecModel
from encodec.modules import SEANetDecoder, SEANetEncoder
from encodec.quantization import ResidualVectorQuantizer
from pydantic import Field, model_validator
from torch import Tensor

from tokensep_codecs.losses import AdversarialConfig, ReconstructionConfig, ReconstructionLoss
from tokensep_core.audio.channels import fold_channels, fold_codes, unfold_channels, unfold_codes
from tokensep_core.audio.length import fit_length
from tokensep_core.config import ComponentConfig
from tokensep_core.interfaces import TrainableCodec, TrainOutput
from tokensep_core.runtime.weights import load_into, read_weights

PRESETS: dict[str, dict[str, Any]] = {
    # the published models' architectures (encodec_model_24khz / encodec_model_48khz)
    "encodec_24khz": {"sample_rate": 24000, "channels": 1, "causal": True, "norm": "weight_norm", "n_q": 32},
    "encodec_48khz": {"sample_rate": 48000, "channels": 2, "causal": False, "norm": "time_group_norm", "n_q": 16},
}


class EncodecCodecConfig(ComponentConfig):
    """EnCodec's SEANet encoder/decoder and EMA residual VQ; ``preset`` fills unspecified fields.

    ``stereo_mode``: ``native`` feeds all ``channels`` to the model at once (the 48 kHz model is
    stereo); ``per_channel`` / ``mid_side`` fold channels into the batch of a mono model, with
    codes laid out channel-major. The published 48 kHz model normalises loudness per 1 s segment;
    codes cannot carry that scale, so this adapter runs it unnormalised and unsegmented."""

    preset: Literal["encodec_24khz", "encodec_48khz"] = "encodec_24khz"
    sample_rate: int = Field(24000, gt=0)
    channels: int = Field(1, ge=1, le=2)
    stereo_mode: Literal["native", "per_channel", "mid_side"] = "native"
    causal: bool = True
    norm: Literal["weight_norm", "time_group_norm", "none"] = "weight_norm"
    n_filters: int = Field(32, ge=1)
    ratios: list[int] = Field([8, 5, 4, 2], min_length=1, description="decoder upsampling ratios; hop = product")
    dimension: int = Field(128, ge=1)
    n_residual_layers: int = Field(1, ge=0)
    lstm: int = Field(2, ge=0)
    n_q: int = Field(32, ge=1, description="codebooks the model has")
    codebook_size: int = Field(1024, ge=2)
    kmeans_init: bool = Field(True, description="codebooks start empty and take k-means centroids of the first training batch")
    dead_code_threshold: int = Field(
        2, ge=0, description="codebook restarts: a code whose EMA cluster size falls below this moves onto a batch vector; 0: off"
    )
    bandwidth: float | None = Field(None, gt=0, description="kbps; selects floor(bandwidth / kbps per codebook) codebooks")
    weights: Path | None = None
    reconstruction: ReconstructionConfig = ReconstructionConfig()
    adversarial: AdversarialConfig = AdversarialConfig()

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        if isinstance(data, dict):
            return {**PRESETS.get(data.get("preset", "encodec_24khz"), {}), **data}
        return data

    @model_validator(mode="after")
    def _check(self) -> EncodecCodecConfig:
        if self.codebook_size & (self.codebook_size - 1):
            raise ValueError(f"codebook_size {self.codebook_size} must be a power of two (EnCodec)")
        if self.stereo_mode == "mid_side" and self.channels != 2:
            raise ValueError(f"stereo_mode mid_side needs channels=2, got {self.channels}")
        return self


class EncodecCodec(TrainableCodec):
    """EnCodec (Défossez et al. 2022) through the ``encodec`` package, built offline, local weights."""

    Config = EncodecCodecConfig

    def __init__(self, config: EncodecCodecConfig) -> None:
        super().__init__()
        self.config = config
        native = config.stereo_mode == "native"
        model_channels = config.channels if native else 1
        arch = dict(
            channels=model_channels,
            dimension=config.dimension,
            n_filters=config.n_filters,
            n_residual_layers=config.n_residual_layers,
            ratios=list(config.ratios),
            norm=config.norm,
            causal=config.causal,
            lstm=config.lstm,
        )
        quantizer = ResidualVectorQuantizer(
            dimension=config.dimension,
            n_q=config.n_q,
            bins=config.codebook_size,
            kmeans_init=config.kmeans_init,
            threshold_ema_dead_code=config.dead_code_threshold,
        )
        self.model = EncodecModel(
            SEANetEncoder(**arch),
            SEANetDecoder(**arch),
            quantizer,
            target_bandwidths=[],
            sample_rate=config.sample_rate,
            channels=model_channels,
            normalize=False,
            segment=None,
        )
        if config.weights is not None:
            load_into(self.model, read_weights(config.weights, "EnCodec weights"), config.weights, "EnCodec weights")
        hop = math.prod(config.ratios)
        self.sample_rate = config.sample_rate
        self.channels = config.channels
        self.frame_rate = config.sample_rate / hop
        self.codebook_size = config.codebook_size
        # the package's bandwidth arithmetic uses the integer frame rate ceil(sr / hop)
        self.used_codebooks = quantizer.get_num_quantizers_for_bandwidth(self.model.frame_rate, config.bandwidth)
        self.num_codebooks = self.used_codebooks * (1 if native else config.channels)
        self.reconstruction = ReconstructionLoss(config.reconstruction, config.sample_rate)

    @property
    def adversarial_config(self) -> AdversarialConfig:
        return self.config.adversarial

    def _prepare(self, wav: Tensor) -> tuple[Tensor, int]:
        """wav ``[B, C, T]`` -> (model input ``[N, C', T'*hop]`` right-padded, T')."""
        if wav.dim() != 3 or wav.shape[1] != self.channels:
            raise ValueError(f"EnCodec codec expects wav [B, {self.channels}, T], got {list(wav.shape)}")
        hop = self.hop_length
        frames = -(-wav.shape[-1] // hop)
        if self.config.stereo_mode != "native":
            wav = fold_channels(wav, self.config.stereo_mode)
        return F.pad(wav, (0, frames * hop - wav.shape[-1])), frames

    def _restore(self, wav: Tensor, length: int) -> Tensor:
        wav = fit_length(wav, length)
        return wav if self.config.stereo_mode == "native" else unfold_channels(wav, self.channels, self.config.stereo_mode)

    def encode(self, wav: Tensor) -> Tensor:
        """wav ``[B, C, T]`` -> codes ``[B, num_codebooks, ceil(T / hop)]``."""
        x, frames = self._prepare(wav)
        emb = self.model.encoder(x)[..., :frames]
        codes = self.model.quantizer.vq.encode(emb, n_q=self.used_codebooks).transpose(0, 1).long()
        return codes if self.config.stereo_mode == "native" else unfold_codes(codes, self.channels)

    def decode(self, codes: Tensor) -> Tensor:
        """codes ``[B, num_codebooks, T']`` -> wav ``[B, C, T' * hop]``."""
        if codes.dim() != 3 or codes.shape[1] != self.num_codebooks:
            raise ValueError(f"EnCodec codec expects codes [B, {self.num_codebooks}, T'], got {list(codes.shape)}")
        frames = codes.shape[-1]
        if self.config.stereo_mode != "native":
            codes = fold_codes(codes, self.channels)
        emb = self.model.quantizer.decode(codes.transpose(0, 1))
        return self._restore(self.model.decoder(emb), frames * self.hop_length)

    def forward(self, wav: Tensor) -> TrainOutput:
        """One training forward on wav ``[B, C, T]``: reconstruction plus EnCodec's commitment penalty
        (its codebooks follow an EMA, so there is no codebook loss)."""
        x, frames = self._prepare(wav)
        result = self.model.quantizer(self.model.encoder(x)[..., :frames], self.model.frame_rate, self.config.bandwidth)
        length = wav.shape[-1]
        recon = self.model.decoder(result.quantized)
        recon = fit_length(recon, length)
        target = x[..., :length]
        if self.config.stereo_mode == "native":  # losses and discriminators work on mono items
            recon, target = recon.flatten(0, 1).unsqueeze(1), target.flatten(0, 1).unsqueeze(1)
        losses = self.reconstruction(recon, target)
        losses["commitment"] = self.config.reconstruction.commitment_weight * result.penalty
        return TrainOutput(recon, target, losses, result.codes.transpose(0, 1))
