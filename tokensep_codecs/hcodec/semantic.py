"""Semantic feature sources of HCodec's semantic path: frozen, no trainable parameters.

Each source maps mono wav ``[N, 1, T]`` at the codec's sample rate to features ``[N, F, T']``
at the codec frame rate (``T' = T / hop``). Chosen in the codec config by ``semantic_source``:
``{name: "logmel" | "cqt" | "hubert" | "wavlm", params: {...}}``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any, Literal

import torch
import torch.nn.functional as F
import torchaudio
from pydantic import Field
from torch import Tensor, nn

from tokensep_core.config import ComponentConfig
from tokensep_core.errors import ConfigError
from tokensep_core.runtime.weights import load_into, read_weights


class LogMelParams(ComponentConfig):
    n_mels: int = Field(80, ge=1)
    n_fft: int | None = Field(None, ge=8, description="STFT size; default 2 * hop")


class CQTParams(ComponentConfig):
    bins_per_octave: int = Field(12, ge=1)
    n_bins: int = Field(84, ge=1)
    fmin: float = Field(32.70, gt=0, description="Hz (C1)")
    n_fft: int | None = Field(None, ge=8, description="STFT size; default max(2 * hop, 2048)")


class SSLParams(ComponentConfig):
    weights: Path = Field(description="local .safetensors or torch.save state dict of the torchaudio model")
    builder: Literal["base", "large", "xlarge"] = "base"
    architecture: dict[str, Any] | None = Field(
        None, description="keyword arguments of torchaudio.models.wav2vec2_model / wavlm_model; replaces `builder`"
    )
    layers: list[int] | None = Field(None, description="hidden layers averaged (0-based); default all")
    sample_rate: int = Field(16000, gt=0, description="rate the SSL model expects")


class LogMelSource(ComponentConfig):
    name: Literal["logmel"] = "logmel"
    params: LogMelParams = LogMelParams()


class CQTSource(ComponentConfig):
    name: Literal["cqt"] = "cqt"
    params: CQTParams = CQTParams()


class HubertSource(ComponentConfig):
    name: Literal["hubert"] = "hubert"
    params: SSLParams


class WavLMSource(ComponentConfig):
    name: Literal["wavlm"] = "wavlm"
    params: SSLParams


SemanticSourceConfig = Annotated[LogMelSource | CQTSource | HubertSource | WavLMSource, Field(discriminator="name")]


def _to_frames(features: Tensor, frames: int) -> Tensor:
    """features ``[N, F, M]`` -> ``[N, F, frames]`` (average pooling, or repetition when M < frames)."""
    if features.shape[-1] == frames:
        return features
    return F.adaptive_avg_pool1d(features, frames)


class LogMelFeatures(nn.Module):
    """Log-magnitude mel spectrogram with one frame per code frame."""

    def __init__(self, params: LogMelParams, sample_rate: int, hop: int) -> None:
        super().__init__()
        self.dim = params.n_mels
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate,
            n_fft=params.n_fft or 2 * hop,
            hop_length=hop,
            n_mels=params.n_mels,
            power=1.0,
            pad_mode="constant",  # reflection fails on clips shorter than n_fft / 2
        )

    def forward(self, wav: Tensor, frames: int) -> Tensor:
        """wav ``[N, 1, T]`` -> ``[N, n_mels, frames]``."""
        mel = self.mel(wav[:, 0])
        return _to_frames(torch.log(mel.clamp(min=1e-5)), frames)


def constant_q_filters(n_freqs: int, sample_rate: int, fmin: float, bins_per_octave: int, n_bins: int) -> Tensor:
    """Triangular filters ``[n_bins, n_freqs]`` on log-spaced centres, each at least one STFT bin wide
    and normalised to unit sum: a pseudo-CQT computed from STFT magnitudes."""
    freqs = torch.linspace(0, sample_rate / 2, n_freqs, dtype=torch.float64)
    step = freqs[1] - freqs[0]
    centres = fmin * 2.0 ** (torch.arange(-1, n_bins + 1, dtype=torch.float64) / bins_per_octave)
    lo = torch.minimum(centres[:-2], centres[1:-1] - step)
    mid = centres[1:-1]
    hi = torch.maximum(centres[2:], centres[1:-1] + step)
    rising = (freqs[None] - lo[:, None]) / (mid - lo)[:, None]
    falling = (hi[:, None] - freqs[None]) / (hi - mid)[:, None]
    filters = torch.clamp(torch.minimum(rising, falling), min=0)
    return (filters / filters.sum(dim=1, keepdim=True)).float()


class CQTFeatures(nn.Module):
    """Log pseudo-constant-Q spectrogram (constant-Q triangular filters over STFT magnitudes)."""

    def __init__(self, params: CQTParams, sample_rate: int, hop: int) -> None:
        super().__init__()
        top = params.fmin * 2.0 ** ((params.n_bins + 1) / params.bins_per_octave)
        if top >= sample_rate / 2:
            raise ConfigError(
                f"field 'semantic_source.params.n_bins': {params.n_bins} bins from {params.fmin} Hz reach {top:.0f} Hz, "
                f"above the Nyquist frequency {sample_rate / 2:.0f} Hz"
            )
        self.dim = params.n_bins
        self.hop = hop
        self.n_fft = params.n_fft or max(2 * hop, 2048)
        self.register_buffer("window", torch.hann_window(self.n_fft), persistent=False)
        filters = constant_q_filters(self.n_fft // 2 + 1, sample_rate, params.fmin, params.bins_per_octave, params.n_bins)
        self.register_buffer("filters", filters, persistent=False)

    def forward(self, wav: Tensor, frames: int) -> Tensor:
        """wav ``[N, 1, T]`` -> ``[N, n_bins, frames]``."""
        spec = torch.stft(wav[:, 0], self.n_fft, self.hop, window=self.window, pad_mode="constant", return_complex=True).abs()
        return _to_frames(torch.log((self.filters @ spec).clamp(min=1e-5)), frames)


class SSLFeatures(nn.Module):
    """Mean of the hidden layers of a frozen torchaudio HuBERT or WavLM loaded from a local file."""

    def __init__(self, family: Literal["hubert", "wavlm"], params: SSLParams, sample_rate: int) -> None:
        super().__init__()
        self.sample_rate = sample_rate
        self.ssl_rate = params.sample_rate
        self.layers = params.layers
        if params.architecture is not None:
            build = torchaudio.models.wav2vec2_model if family == "hubert" else torchaudio.models.wavlm_model
            try:
                model = build(**params.architecture)
            except TypeError as err:
                raise ConfigError(f"field 'semantic_source.params.architecture': {err}") from None
        else:
            if family == "wavlm" and params.builder == "xlarge":
                raise ConfigError("field 'semantic_source.params.builder': torchaudio has no wavlm_xlarge")
            model = getattr(torchaudio.models, f"{family}_{params.builder}")()
        load_into(model, _unwrap(read_weights(params.weights, f"{family} weights")), params.weights, f"{family} weights")
        model.eval().requires_grad_(False)
        self.model = model
        self.dim = model.encoder.feature_projection.projection.out_features

    def train(self, mode: bool = True) -> SSLFeatures:
        """The SSL model stays in eval mode (no dropout or layer drop) while the codec trains."""
        super().train(mode)
        self.model.eval()
        return self

    @torch.no_grad()
    def forward(self, wav: Tensor, frames: int) -> Tensor:
        """wav ``[N, 1, T]`` -> ``[N, D, frames]``."""
        audio = (
            torchaudio.functional.resample(wav[:, 0], self.sample_rate, self.ssl_rate) if self.ssl_rate != self.sample_rate else wav[:, 0]
        )
        hidden, _ = self.model.extract_features(audio)
        chosen = hidden if self.layers is None else [hidden[i] for i in self.layers]
        mean = torch.stack(chosen).mean(dim=0).transpose(1, 2)
        return _to_frames(mean, frames)


def _unwrap(state: dict[str, Any]) -> dict[str, Any]:
    """Accept a bare state dict or one nested under ``state_dict`` / ``model``."""
    for key in ("state_dict", "model"):
        if key in state and isinstance(state[key], dict):
            return state[key]
    return state


def build_semantic_source(config: Any, sample_rate: int, hop: int) -> nn.Module:
    """The feature module for a ``semantic_source`` config; it has a ``dim`` attribute (F)."""
    if isinstance(config, LogMelSource):
        return LogMelFeatures(config.params, sample_rate, hop)
    if isinstance(config, CQTSource):
        return CQTFeatures(config.params, sample_rate, hop)
    return SSLFeatures(config.name, config.params, sample_rate)
