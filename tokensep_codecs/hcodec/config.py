"""HCodec's configuration and presets (explicit fields override the preset's)."""

from __future__ import annotations

import math
from typing import Any, Literal

from pydantic import Field, model_validator

from tokensep_codecs.codebook_restart import CodebookRestartConfig
from tokensep_codecs.hcodec.semantic import LogMelSource, SemanticSourceConfig
from tokensep_codecs.losses import AdversarialConfig, ReconstructionConfig
from tokensep_core.audio.channels import StereoMode
from tokensep_core.config import ComponentConfig

PresetName = Literal["tiny", "small", "hcodec-1.0", "hcodec-2.0"]

_SMALL_MEL = {"mel_window_lengths": [32, 64, 128, 256, 512, 1024, 2048], "mel_n_mels": [5, 10, 20, 40, 80, 160, 320]}

PRESETS: dict[str, dict[str, Any]] = {
    # unit tests: 100 Hz frames, 2 + 2 codebooks x 64, 0.16 M parameters
    "tiny": {
        "sample_rate": 16000,
        "encoder_dim": 8,
        "encoder_strides": [4, 5, 8],
        "acoustic_latent_dim": 32,
        "semantic_source": {"name": "logmel", "params": {"n_mels": 16}},
        "semantic_dim": 32,
        "semantic_layers": 1,
        "semantic_latent_dim": 32,
        "acoustic_codebooks": 2,
        "semantic_codebooks": 2,
        "codebook_size": 64,
        "codebook_dim": 8,
        "quantizer_dropout": 0.0,
        "decoder_dim": 48,
        "decoder_layers": 1,
        "istft_upsample": 4,
        "reconstruction": {"mel_window_lengths": [64, 256], "mel_n_mels": [16, 32], "stft_window_lengths": [256, 64]},
        "adversarial": {"enabled": False},
    },
    # CPU training: 50 Hz frames, 4 + 4 codebooks x 1024, 4.0 M parameters, STFT-only discriminator (0.9 M)
    "small": {
        "sample_rate": 16000,
        "encoder_dim": 16,
        "encoder_strides": [2, 4, 5, 8],
        "acoustic_latent_dim": 128,
        "semantic_source": {"name": "logmel", "params": {"n_mels": 64}},
        "semantic_dim": 128,
        "semantic_layers": 2,
        "semantic_latent_dim": 128,
        "acoustic_codebooks": 4,
        "semantic_codebooks": 4,
        "codebook_size": 1024,
        "codebook_dim": 8,
        "quantizer_dropout": 0.5,
        "decoder_dim": 256,
        "decoder_layers": 4,
        "istft_upsample": 4,
        "reconstruction": {**_SMALL_MEL, "stft_window_lengths": [1024, 256]},
        "adversarial": {"enabled": True, "periods": [], "fft_sizes": [512, 256]},
    },
    # H-Codec 1.0: 16 kHz, 25 Hz (hop 640), 4 acoustic + 4 semantic codebooks x 1024
    "hcodec-1.0": {
        "sample_rate": 16000,
        "encoder_dim": 32,
        "encoder_strides": [2, 4, 8, 10],
        "acoustic_latent_dim": 512,
        "semantic_source": {"name": "logmel", "params": {"n_mels": 128}},
        "semantic_dim": 512,
        "semantic_layers": 4,
        "semantic_latent_dim": 512,
        "acoustic_codebooks": 4,
        "semantic_codebooks": 4,
        "codebook_size": 1024,
        "codebook_dim": 8,
        "quantizer_dropout": 0.5,
        "decoder_dim": 512,
        "decoder_layers": 8,
        "istft_upsample": 2,
        "reconstruction": {**_SMALL_MEL, "stft_window_lengths": [2048, 512]},
        "adversarial": {"enabled": True, "periods": [2, 3, 5, 7, 11], "fft_sizes": [2048, 1024, 512]},
    },
    # H-Codec 2.0: 48 kHz, 12.5 Hz (hop 3840), 16 + 16 codebooks x 1024, STFT n_fft 1920 / hop 960
    # front end with ConvNeXt layers (and the same STFT in the inverse head)
    "hcodec-2.0": {
        "sample_rate": 48000,
        "acoustic_frontend": "stft",
        "encoder_dim": 512,
        "encoder_layers": 4,
        "encoder_strides": [2, 4, 6, 8, 10],
        "acoustic_latent_dim": 512,
        "semantic_source": {"name": "logmel", "params": {"n_mels": 128}},
        "semantic_dim": 512,
        "semantic_layers": 4,
        "semantic_latent_dim": 512,
        "acoustic_codebooks": 16,
        "semantic_codebooks": 16,
        "codebook_size": 1024,
        "codebook_dim": 8,
        "quantizer_dropout": 0.5,
        "decoder_dim": 768,
        "decoder_layers": 8,
        "istft_upsample": 4,
        "n_fft": 1920,
        "reconstruction": {**_SMALL_MEL, "stft_window_lengths": [2048, 512]},
        "adversarial": {"enabled": True, "periods": [2, 3, 5, 7, 11], "fft_sizes": [2048, 1024, 512]},
    },
}


class HCodecConfig(ComponentConfig):
    """HCodec: a DAC-style acoustic encoder and a semantic-feature encoder, each with its own RVQ;
    a Vocos-style decoder over both streams. Start from ``preset``; any field given overrides it."""

    preset: PresetName = "hcodec-1.0"
    sample_rate: int = Field(16000, gt=0)
    channels: int = Field(1, ge=1)
    stereo_mode: StereoMode = "per_channel"
    acoustic_frontend: Literal["conv", "stft"] = Field(
        "conv", description="conv: DAC-style strided waveform encoder; stft: STFT (n_fft, hop / istft_upsample) + ConvNeXt"
    )
    encoder_dim: int = Field(32, ge=1, description="conv: width of the first conv, doubling per stride; stft: ConvNeXt width")
    encoder_strides: list[int] = Field([2, 4, 8, 10], min_length=1, description="hop = product (conv: the strides)")
    encoder_layers: int = Field(4, ge=0, description="stft front end: ConvNeXt blocks")
    acoustic_latent_dim: int = Field(512, ge=1)
    semantic_source: SemanticSourceConfig = LogMelSource()
    semantic_dim: int = Field(512, ge=1)
    semantic_layers: int = Field(4, ge=0)
    semantic_latent_dim: int = Field(512, ge=1)
    acoustic_codebooks: int = Field(4, ge=1)
    semantic_codebooks: int = Field(4, ge=1)
    codebook_size: int = Field(1024, ge=2)
    codebook_dim: int = Field(8, ge=1, description="factorized lookup dimension of each codebook")
    quantizer_dropout: float = Field(0.5, ge=0, le=1, description="fraction of a batch trained with fewer codebooks")
    n_acoustic_quantizers: int | None = Field(None, ge=1, description="acoustic codebooks used by encode/decode; default all")
    n_semantic_quantizers: int | None = Field(None, ge=1, description="semantic codebooks used by encode/decode; default all")
    decoder_dim: int = Field(512, ge=1)
    decoder_layers: int = Field(8, ge=0)
    istft_upsample: int = Field(2, ge=1, description="inverse-STFT frames per code frame; STFT hop = hop / istft_upsample")
    n_fft: int | None = Field(None, ge=4, description="inverse-STFT size; default 4 * STFT hop")
    head_rate: Literal["code", "stft"] = Field(
        "code",
        description="code: the head maps each code frame's hidden vector to istft_upsample STFT frames; "
        "stft: the hidden frames are first upsampled to the STFT frame rate (interpolation + a ConvNeXt block)",
    )
    semantic_weight: float = Field(1.0, ge=0, description="weight of the semantic-feature reconstruction loss")
    reconstruction: ReconstructionConfig = ReconstructionConfig()
    adversarial: AdversarialConfig = AdversarialConfig()
    codebook_restart: CodebookRestartConfig = CodebookRestartConfig()

    @model_validator(mode="before")
    @classmethod
    def _apply_preset(cls, data: Any) -> Any:
        if not isinstance(data, dict):
            return data
        preset = data.get("preset", cls.model_fields["preset"].default)
        base = PRESETS.get(preset)
        if base is None:
            return data  # the Literal check reports the bad name
        merged = dict(base)
        for key, value in data.items():
            if key in ("reconstruction", "adversarial") and isinstance(value, dict):
                value = {**base.get(key, {}), **value}
            merged[key] = value
        return merged

    @model_validator(mode="after")
    def _check(self) -> HCodecConfig:
        if self.hop_length % self.istft_upsample:
            raise ValueError(f"hop {self.hop_length} (product of encoder_strides) is not divisible by istft_upsample {self.istft_upsample}")
        if self.n_acoustic_quantizers is not None and self.n_acoustic_quantizers > self.acoustic_codebooks:
            raise ValueError(f"n_acoustic_quantizers {self.n_acoustic_quantizers} > acoustic_codebooks {self.acoustic_codebooks}")
        if self.n_semantic_quantizers is not None and self.n_semantic_quantizers > self.semantic_codebooks:
            raise ValueError(f"n_semantic_quantizers {self.n_semantic_quantizers} > semantic_codebooks {self.semantic_codebooks}")
        if self.stereo_mode == "mid_side" and self.channels != 2:
            raise ValueError(f"stereo_mode mid_side needs channels=2, got {self.channels}")
        return self

    @property
    def hop_length(self) -> int:
        """Samples per code frame."""
        return math.prod(self.encoder_strides)

    @property
    def stft_hop(self) -> int:
        return self.hop_length // self.istft_upsample

    @property
    def used_acoustic(self) -> int:
        return self.n_acoustic_quantizers or self.acoustic_codebooks

    @property
    def used_semantic(self) -> int:
        return self.n_semantic_quantizers or self.semantic_codebooks
