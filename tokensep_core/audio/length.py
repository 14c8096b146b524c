"""Signals cut or zero-padded to an exact length (resampling and hop-sized codecs round lengths)."""

from __future__ import annotations

import torch.nn.functional as F
from torch import Tensor


def fit_length(wav: Tensor, length: int) -> Tensor:
    """``[..., T]`` -> ``[..., length]`` (contiguous): the first ``length`` samples, zero-padded at the end when short."""
    if wav.shape[-1] >= length:
        return wav[..., :length].contiguous()
    return F.pad(wav, (0, length - wav.shape[-1]))
