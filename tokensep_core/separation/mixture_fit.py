"""Make generated stems sum to the mixture they came from (``inference.mixture_consistency``).

- ``shift``: add the residual (mixture minus the stems' sum), split equally, to every stem.
- ``mask``: the generated stems only *guide* a split of the mixture itself: each stem's share of
  every time-frequency bin of the mixture's STFT is its power there over all stems' power
  (a Wiener-style soft mask), so the outputs keep the mixture's phase, transients and bandwidth
  and sum back to it. Above the generated stems' band (``band_hz``, the codec's Nyquist
  frequency, when the mixture's rate is higher) each frame reuses the stems' average mask over
  the band's top octave; bins where no generated stem has energy are shared equally. The outputs
  then depend on the mixture even when the generated stems do not: score it beside the same
  stage fed by unconditional stems (``sampling.cfg_scale: 0``).
"""

from __future__ import annotations

import math

import torch
from torch import Tensor

from tokensep_core.separation.inference import MixtureConsistency

MASK_POWER = 2.0
"""Masks from power spectra (Wiener filtering with the generated stems as the source estimates)."""
MASK_WINDOW_SECONDS = 0.064


def fit_to_mixture(mixture: Tensor, stems: Tensor, method: MixtureConsistency, sample_rate: int, band_hz: float | None = None) -> Tensor:
    """mixture ``[B, C, L]``, stems ``[B, S, C, L]`` at ``sample_rate`` -> stems ``[B, S, C, L]``
    that sum to the mixture (``off``: unchanged)."""
    if method == "off":
        return stems
    if method == "shift":
        return stems + ((mixture - stems.sum(dim=1)) / stems.shape[1]).unsqueeze(1)
    return mask_mixture(mixture, stems, sample_rate, band_hz)


def mask_mixture(mixture: Tensor, stems: Tensor, sample_rate: int, band_hz: float | None = None) -> Tensor:
    """Split ``mixture [B, C, L]`` by the soft masks of ``stems [B, S, C, L]`` -> ``[B, S, C, L]``;
    the stems carry content up to ``band_hz`` (None: the whole band)."""
    batch, n_stems, channels, length = stems.shape
    n_fft = 2 ** max(4, round(math.log2(MASK_WINDOW_SECONDS * sample_rate)))
    n_fft = min(n_fft, 2 ** max(1, int(math.log2(length))))  # a segment shorter than the window
    hop, window = n_fft // 4, torch.hann_window(n_fft, device=mixture.device)

    def stft(x: Tensor) -> Tensor:
        return torch.stft(x.reshape(-1, length).float(), n_fft, hop, window=window, return_complex=True)

    spectra = stft(stems)
    power = spectra.abs().pow(MASK_POWER).reshape(batch, n_stems, channels, *spectra.shape[-2:])
    total = power.sum(dim=1, keepdim=True)
    masks = torch.where(total > 1e-10, power / total.clamp_min(1e-10), torch.full_like(power, 1.0 / n_stems))
    bins = power.shape[-2]
    top = bins if band_hz is None else min(bins, int(band_hz / (sample_rate / 2) * (bins - 1)) + 1)
    if top < bins:  # above the band: each frame's average mask over the band's top octave
        masks[..., top:, :] = masks[..., top // 2 : top, :].mean(dim=-2, keepdim=True)
    spec = stft(mixture).reshape(batch, 1, channels, *power.shape[-2:])
    out = torch.istft((masks * spec).reshape(-1, *power.shape[-2:]), n_fft, hop, window=window, length=length)
    return out.reshape(batch, n_stems, channels, length).to(stems.dtype)
