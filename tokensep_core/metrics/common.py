"""Helpers shared by the metrics: input checks, silence, mono downmix, resampling, numpy conversion."""

from __future__ import annotations

import numpy as np
import torch
import torchaudio
from torch import Tensor

from tokensep_core.errors import TokensepError


class MetricError(TokensepError):
    """A metric got inputs it cannot score (wrong shapes, too short, missing weights)."""


def check_pair(name: str, reference: Tensor, estimate: Tensor) -> tuple[Tensor, Tensor]:
    """Validate reference and estimate ``[C, T]`` of equal shape -> both as float64 CPU tensors."""
    for label, wav in (("reference", reference), ("estimate", estimate)):
        if wav.dim() != 2:
            raise MetricError(f"metric {name}: {label} must be [channels, samples], got shape {list(wav.shape)}")
    if reference.shape != estimate.shape:
        raise MetricError(f"metric {name}: reference {list(reference.shape)} and estimate {list(estimate.shape)} differ in shape")
    return reference.detach().to("cpu", torch.float64), estimate.detach().to("cpu", torch.float64)


SILENT_DBFS = -90.0
"""A reference whose RMS over every channel and sample is below this is silent: the stem is absent
from the song, and no metric scores an estimate against it (ViSQOL gives its maximum, 4.73, to any
estimate, SI-SDR about -100 dB)."""


def is_silent(wav: Tensor) -> bool:
    """Whether ``wav`` ``[C, T]`` is silent (RMS below :data:`SILENT_DBFS`; an empty one is)."""
    if wav.numel() == 0:
        return True
    rms = float(wav.detach().double().square().mean().sqrt())
    return rms < 10 ** (SILENT_DBFS / 20)


def to_mono(wav: Tensor) -> Tensor:
    """``[C, T]`` -> ``[T]``, the mean over channels."""
    return wav.mean(dim=0)


def resample(wav: Tensor, sample_rate: int, target_rate: int) -> Tensor:
    """``[..., T]`` at ``sample_rate`` -> ``[..., T']`` at ``target_rate`` (torchaudio's sinc resampler)."""
    if sample_rate == target_rate:
        return wav
    return torchaudio.functional.resample(wav, sample_rate, target_rate)


def to_numpy(wav: Tensor) -> np.ndarray:
    """A tensor as a float64 numpy array (what the evaluation libraries expect)."""
    return wav.detach().to("cpu", torch.float64).numpy()
