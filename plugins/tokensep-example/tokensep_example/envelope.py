"""A metric: how far an estimate's loudness envelope is from the reference's, in dB."""

from __future__ import annotations

import torch
from pydantic import Field
from torch import Tensor

from tokensep_core.config import ComponentConfig
from tokensep_core.interfaces import Metric


class EnvelopeDistanceConfig(ComponentConfig):
    frame_seconds: float = Field(0.02, gt=0, description="length of one RMS frame")
    floor_db: float = Field(-80.0, lt=0, description="frames quieter than this count as this loud")


class EnvelopeDistance(Metric):
    """Mean absolute difference of the frame RMS levels (dB) of reference and estimate, over
    frames and channels; 0 for identical loudness envelopes."""

    Config = EnvelopeDistanceConfig
    name = "envelope_distance"
    higher_is_better = False

    def __init__(self, config: EnvelopeDistanceConfig) -> None:
        self.config = config

    def __call__(self, reference: Tensor, estimate: Tensor, sample_rate: int) -> float:
        """reference, estimate ``[C, T]`` -> dB."""
        if reference.shape != estimate.shape:
            raise ValueError(f"{self.name}: reference {list(reference.shape)} and estimate {list(estimate.shape)} differ in shape")
        frame = max(1, round(self.config.frame_seconds * sample_rate))
        return float((self._levels(reference, frame) - self._levels(estimate, frame)).abs().mean())

    def _levels(self, wav: Tensor, frame: int) -> Tensor:
        """``[C, T]`` -> RMS level per frame ``[C, ceil(T / frame)]`` in dB, floored."""
        padded = torch.nn.functional.pad(wav.float(), (0, -wav.shape[-1] % frame))
        rms = padded.reshape(wav.shape[0], -1, frame).square().mean(-1).sqrt()
        return (20 * torch.log10(rms.clamp_min(1e-12))).clamp_min(self.config.floor_db)
