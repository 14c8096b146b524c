"""Spectral-flux onset envelope in torch (differentiable-free, used on targets and for tokens)."""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import Tensor


def spectral_flux(wav: Tensor, n_fft: int, hop: int) -> Tensor:
    """Mono items ``[N, 1, T]`` -> onset strength ``[N, T // hop]``.

    Frame ``t`` analyses the ``n_fft`` samples ending at ``(t + 1) * hop`` (left-aligned windows,
    so energy starting at sample ``s`` first shows in frame ``s // hop``) and is the mean over bins
    of the positive rise of log-compressed magnitude from frame ``t - 1``. Frame 0 is 0."""
    window = torch.hann_window(n_fft, device=wav.device, dtype=wav.dtype)
    padded = F.pad(wav[:, 0], (n_fft - hop, 0))
    spec = torch.stft(padded, n_fft, hop, window=window, center=False, return_complex=True)
    logmag = torch.log1p(100.0 * spec.abs())  # compression makes the flux level-robust
    rise = F.relu(logmag[..., 1:] - logmag[..., :-1]).mean(dim=1)
    return F.pad(rise, (1, 0))[:, : wav.shape[-1] // hop]


def onset_weights(wav: Tensor, n_fft: int, hop: int, gain: float) -> Tensor:
    """Mono targets ``[N, 1, T]`` -> per-sample loss weights ``[N, 1, T]`` in ``[1, 1 + gain]``.

    The flux of each item is normalised by its maximum, held over its ``hop`` samples and spread
    over a centred window of ``n_fft`` samples (max pooling) so the whole attack is weighted, not only the flux frame."""
    length = wav.shape[-1]
    flux = spectral_flux(wav, n_fft, hop)
    flux = flux / flux.amax(dim=-1, keepdim=True).clamp(min=1e-8)
    envelope = F.pad(flux.repeat_interleave(hop, dim=-1), (0, length % hop)).unsqueeze(1)
    kernel = min(n_fft, length) | 1  # odd kernel keeps the length
    envelope = F.max_pool1d(envelope, kernel, stride=1, padding=kernel // 2)
    return 1.0 + gain * envelope
