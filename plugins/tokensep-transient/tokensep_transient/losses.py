"""Transient-weighted reconstruction terms: short-window multi-resolution STFT and an
onset-weighted time-domain L1."""

from __future__ import annotations

from audiotools import AudioSignal
from dac.nn.loss import MultiScaleSTFTLoss
from pydantic import Field
from torch import Tensor, nn

from tokensep_core.config import ComponentConfig
from tokensep_transient.onsets import onset_weights


class TransientLossConfig(ComponentConfig):
    """Weights and resolutions of the transient terms (0 turns a term off)."""

    stft_weight: float = Field(1.0, ge=0, description="short-window multi-resolution STFT term")
    stft_window_lengths: list[int] = Field([32, 64, 128], min_length=1, description="short windows resolve attacks in time")
    onset_l1_weight: float = Field(5.0, ge=0, description="onset-weighted waveform L1 term")
    onset_gain: float = Field(4.0, ge=0, description="weight at the strongest onset is 1 + onset_gain")
    onset_n_fft: int = Field(256, ge=8, description="STFT size of the spectral-flux onset envelope")
    onset_hop: int = Field(64, ge=1, description="hop of the onset envelope")


class TransientLoss(nn.Module):
    """recon, target ``[N, 1, T]`` -> weighted ``{"transient_stft", "onset_l1"}`` (non-zero weights)."""

    def __init__(self, config: TransientLossConfig, sample_rate: int) -> None:
        super().__init__()
        self.config = config
        self.sample_rate = sample_rate
        self.stft = MultiScaleSTFTLoss(window_lengths=list(config.stft_window_lengths))

    def forward(self, recon: Tensor, target: Tensor) -> dict[str, Tensor]:
        c = self.config
        terms = {}
        if c.stft_weight:
            terms["transient_stft"] = c.stft_weight * self.stft(AudioSignal(recon, self.sample_rate), AudioSignal(target, self.sample_rate))
        if c.onset_l1_weight:
            weights = onset_weights(target.detach(), c.onset_n_fft, c.onset_hop, c.onset_gain)
            terms["onset_l1"] = c.onset_l1_weight * ((recon - target).abs() * weights).sum() / weights.sum()
        return terms
