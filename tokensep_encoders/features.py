"""Parameter-free mixture features shared by the encoders, and their common base class."""

from __future__ import annotations

from typing import Any

import torch
import torchaudio
from torch import Tensor, nn

from tokensep_core.interfaces import ConditionEncoder


class LogMel(nn.Module):
    """wav [B, C, T] -> log-mel [B, n_mels, T // hop + 1] of the channel mean (mono)."""

    def __init__(self, sample_rate: int, n_fft: int, hop_length: int, n_mels: int) -> None:
        super().__init__()
        self.hop_length = hop_length
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, power=2.0
        )

    def num_frames(self, num_samples: Tensor) -> Tensor:
        """Samples [B] -> frames [B] (the transform is centred: one frame per hop, plus one)."""
        return num_samples // self.hop_length + 1

    def forward(self, wav: Tensor) -> Tensor:
        mono = wav.mean(dim=1)
        samples = mono.shape[-1]
        shortest = self.mel.spectrogram.n_fft // 2 + 1  # the centring reflect-pad needs more samples than it pads
        if samples < shortest:
            mono = torch.nn.functional.pad(mono, (0, shortest - samples))
        return torch.log(self.mel(mono) + 1e-5)[..., : samples // self.hop_length + 1]


def frame_mask(features: Tensor, lengths: Tensor | None) -> Tensor:
    """features [B, F, P], valid frames [B] (None: all) -> mask [B, P], True = valid."""
    steps = torch.arange(features.shape[-1], device=features.device)
    if lengths is None:
        return torch.ones(features.shape[0], features.shape[-1], dtype=torch.bool, device=features.device)
    return steps.unsqueeze(0) < lengths.to(features.device).unsqueeze(1)


class LogMelEncoder(ConditionEncoder):
    """Base of the encoders that read the log-mel of the mono mixture: sets the interface's
    attributes from ``config`` (sample_rate, channels, hop_length, n_mels, output_dim) and
    provides ``prepare`` and ``feature_lengths``."""

    def __init__(self, config: Any, n_fft: int) -> None:
        super().__init__()
        self.config = config
        self.sample_rate = config.sample_rate
        self.channels = config.channels
        self.output_dim = config.output_dim
        self.frame_rate = config.sample_rate / config.hop_length
        self.features = LogMel(config.sample_rate, n_fft, config.hop_length, config.n_mels)

    def prepare(self, wav: Tensor) -> Tensor:
        """wav [B, C, T] -> log-mel [B, n_mels, T // hop + 1]."""
        return self.features(wav)

    def feature_lengths(self, num_samples: Tensor) -> Tensor:
        """Valid samples [B] -> valid feature frames [B]."""
        return self.features.num_frames(num_samples)
