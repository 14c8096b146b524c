"""Multi-resolution log-mel distance: a phase-blind spectral distance, fair to generated stems."""

from __future__ import annotations

import torch
import torchaudio
from pydantic import Field
from torch import Tensor

from tokensep_core.config import ComponentConfig
from tokensep_core.interfaces import Metric
from tokensep_core.metrics.common import check_pair


class MelDistanceConfig(ComponentConfig):
    fft_sizes: tuple[int, ...] = Field((512, 1024, 2048), min_length=1, description="one resolution per size, hop = size / 4")
    n_mels: int = Field(80, ge=1)
    floor: float = Field(1e-5, gt=0, description="added to mel power before the log")


class MelDistance(Metric):
    """Mean absolute difference of log10 mel power, averaged over resolutions and channels.

    Generated stems need not be phase-aligned with the reference, so this scores what a
    listener compares (the spectro-temporal envelope) where SI-SDR punishes any phase drift."""

    Config = MelDistanceConfig
    name = "mel_distance"
    higher_is_better = False

    def __init__(self, config: MelDistanceConfig) -> None:
        self.config = config
        self._transforms: dict[tuple[int, int], torchaudio.transforms.MelSpectrogram] = {}

    def _mel(self, sample_rate: int, n_fft: int) -> torchaudio.transforms.MelSpectrogram:
        key = (sample_rate, n_fft)
        if key not in self._transforms:
            self._transforms[key] = torchaudio.transforms.MelSpectrogram(
                sample_rate, n_fft=n_fft, hop_length=n_fft // 4, n_mels=min(self.config.n_mels, n_fft // 4), power=2.0
            )
        return self._transforms[key]

    def __call__(self, reference: Tensor, estimate: Tensor, sample_rate: int) -> float:
        """reference, estimate ``[C, T]`` -> distance (0 for identical signals)."""
        ref, est = (x.float() for x in check_pair(self.name, reference, estimate))
        distances = []
        for n_fft in self.config.fft_sizes:
            mel = self._mel(sample_rate, n_fft)
            log_ref = torch.log10(mel(ref) + self.config.floor)
            log_est = torch.log10(mel(est) + self.config.floor)
            distances.append((log_ref - log_est).abs().mean())
        return float(torch.stack(distances).mean())
