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
- ``decoder``: a trained :class:`~tokensep_core.interfaces.MixtureDecoder` refines that split
  (tokensep_core.separation.mask_decoder), passed to :func:`fit_to_mixture` by the separator.

:class:`MaskSTFT` and :func:`soft_masks` are the STFT and masks that ``mask`` and the decoder share.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch
from torch import Tensor

from tokensep_core.errors import ConfigError
from tokensep_core.interfaces import MixtureDecoder
from tokensep_core.separation.inference import MixtureConsistency

MASK_POWER = 2.0
"""Masks from power spectra (Wiener filtering with the generated stems as the source estimates)."""
MASK_WINDOW_SECONDS = 0.064


@dataclass(frozen=True)
class MaskSTFT:
    """A Hann-window STFT whose window is given in seconds (so it fits any rate): a power of two
    near ``window_seconds`` at the rate, never longer than the signal; hop a quarter window."""

    n_fft: int
    hop: int
    window: Tensor
    length: int

    @classmethod
    def of(cls, sample_rate: int, length: int, device: torch.device, window_seconds: float = MASK_WINDOW_SECONDS) -> MaskSTFT:
        """The STFT of signals of ``length`` samples at ``sample_rate``."""
        n_fft = 2 ** max(4, round(math.log2(window_seconds * sample_rate)))
        n_fft = min(n_fft, 2 ** max(1, int(math.log2(length))))  # a segment shorter than the window
        return cls(n_fft, n_fft // 4, torch.hann_window(n_fft, device=device), length)

    def __call__(self, wav: Tensor) -> Tensor:
        """wav ``[..., L]`` -> complex spectra ``[..., F, N]`` (float32)."""
        spectra = torch.stft(wav.reshape(-1, self.length).float(), self.n_fft, self.hop, window=self.window, return_complex=True)
        return spectra.reshape(*wav.shape[:-1], *spectra.shape[-2:])

    def inverse(self, spectra: Tensor) -> Tensor:
        """complex spectra ``[..., F, N]`` -> wav ``[..., L]``."""
        wav = torch.istft(spectra.reshape(-1, *spectra.shape[-2:]), self.n_fft, self.hop, window=self.window, length=self.length)
        return wav.reshape(*spectra.shape[:-2], self.length)

    def band_bins(self, sample_rate: int, band_hz: float | None) -> int:
        """How many bins (from 0 Hz) lie within ``band_hz`` (None: all of them)."""
        bins = self.n_fft // 2 + 1
        return bins if band_hz is None else min(bins, int(band_hz / (sample_rate / 2) * (bins - 1)) + 1)


def soft_masks(spectra: Tensor, band_bins: int) -> Tensor:
    """Spectra of the stems ``[B, S, C, F, N]`` -> their Wiener-style soft masks ``[B, S, C, F, N]``,
    which sum to 1 over S: each stem's power over all stems' power (bins where no stem has energy
    shared equally); above the first ``band_bins`` bins, each frame's average mask over the band's
    top octave."""
    power = spectra.abs().pow(MASK_POWER)
    total = power.sum(dim=1, keepdim=True)
    masks = torch.where(total > 1e-10, power / total.clamp_min(1e-10), torch.full_like(power, 1.0 / power.shape[1]))
    if band_bins < masks.shape[-2]:
        masks[..., band_bins:, :] = masks[..., band_bins // 2 : band_bins, :].mean(dim=-2, keepdim=True)
    return masks


def fit_to_mixture(
    mixture: Tensor,
    stems: Tensor,
    method: MixtureConsistency,
    sample_rate: int,
    band_hz: float | None = None,
    decoder: MixtureDecoder | None = None,
) -> Tensor:
    """mixture ``[B, C, L]``, stems ``[B, S, C, L]`` at ``sample_rate`` -> stems ``[B, S, C, L]``
    that sum to the mixture (``off``: unchanged). ``decoder`` (the separator's trained one) runs
    one item at a time: its feature maps grow with bins x frames x width."""
    if method == "off":
        return stems
    if method == "shift":
        return stems + ((mixture - stems.sum(dim=1)) / stems.shape[1]).unsqueeze(1)
    if method == "decoder":
        if decoder is None:
            raise ConfigError("mixture_consistency 'decoder' runs the separator's trained mixture decoder (inference.mixture_decoder)")
        return torch.cat([decoder(mixture[i : i + 1], stems[i : i + 1], sample_rate, band_hz) for i in range(len(mixture))])
    return mask_mixture(mixture, stems, sample_rate, band_hz)


def mask_mixture(mixture: Tensor, stems: Tensor, sample_rate: int, band_hz: float | None = None) -> Tensor:
    """Split ``mixture [B, C, L]`` by the soft masks of ``stems [B, S, C, L]`` -> ``[B, S, C, L]``;
    the stems carry content up to ``band_hz`` (None: the whole band)."""
    stft = MaskSTFT.of(sample_rate, stems.shape[-1], mixture.device)
    masks = soft_masks(stft(stems), stft.band_bins(sample_rate, band_hz))
    return stft.inverse(masks * stft(mixture).unsqueeze(1)).to(stems.dtype)
