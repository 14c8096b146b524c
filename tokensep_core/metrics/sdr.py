"""Waveform-ratio metrics: SI-SDR (per channel, averaged) and MDX's utterance SDR (uSDR)."""

from __future__ import annotations

import math

import torch
from pydantic import Field
from torch import Tensor

from tokensep_core.config import ComponentConfig
from tokensep_core.interfaces import Metric
from tokensep_core.metrics.common import check_pair


class SISDRConfig(ComponentConfig):
    zero_mean: bool = False
    eps: float = Field(1e-8, gt=0)


class SISDR(Metric):
    """Scale-invariant SDR in dB, per channel, then the mean over channels.

    ``10 log10(|a s|² / |a s - ŝ|²)`` with ``a = <ŝ, s> / |s|²``."""

    Config = SISDRConfig
    name = "si_sdr"
    higher_is_better = True

    def __init__(self, config: SISDRConfig) -> None:
        self.config = config

    def __call__(self, reference: Tensor, estimate: Tensor, sample_rate: int) -> float:
        """reference, estimate ``[C, T]`` -> dB."""
        ref, est = check_pair(self.name, reference, estimate)
        if self.config.zero_mean:
            ref = ref - ref.mean(dim=-1, keepdim=True)
            est = est - est.mean(dim=-1, keepdim=True)
        eps = self.config.eps
        scale = ((est * ref).sum(-1, keepdim=True) + eps) / (ref.square().sum(-1, keepdim=True) + eps)
        target = scale * ref
        ratio = (target.square().sum(-1) + eps) / ((target - est).square().sum(-1) + eps)
        return float((10 * torch.log10(ratio)).mean())


class USDRConfig(ComponentConfig):
    eps: float = Field(1e-7, gt=0, description="added to numerator and denominator, as in MDX")


class USDR(Metric):
    """MDX "utterance" SDR in dB over the whole track (all channels and samples at once).

    ``10 log10((Σ s² + ε) / (Σ (s - ŝ)² + ε))``."""

    Config = USDRConfig
    name = "usdr"
    higher_is_better = True

    def __init__(self, config: USDRConfig) -> None:
        self.config = config

    def __call__(self, reference: Tensor, estimate: Tensor, sample_rate: int) -> float:
        """reference, estimate ``[C, T]`` -> dB."""
        ref, est = check_pair(self.name, reference, estimate)
        eps = self.config.eps
        num = float(ref.square().sum()) + eps
        den = float((ref - est).square().sum()) + eps
        return 10 * math.log10(num / den)
