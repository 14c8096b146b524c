"""Parameter-free mixture features shared by the encoders."""

from __future__ import annotations

import torch
import torchaudio
from torch import Tensor, nn


class LogMel(nn.Module):
    """wav [B, C, T] -> log-mel [B, n_mels, T // hop + 1] of the channel mean (mono)."""

    def __init__(self, sample_rate: int, n_fft: int, hop_length: int, n_mels: int) -> None:
        super().__init__()
        self.hop_length = hop_length
        self.mel = torchaudio.transforms.MelSpectrogram(
            sample_rate=sample_rate, n_fft=n_fft, hop_length=hop_length, n_mels=n_mels, power=2.0
        )

    def forward(self, wav: Tensor) -> Tensor:
        mono = wav.mean(dim=1)
        return torch.log(self.mel(mono) + 1e-5)
