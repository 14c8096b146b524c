"""The mixture decoder ``spectral_mask``: a small 2-D conv network that refines the soft-mask split
of ``mixture_consistency: mask`` (tokensep_core.separation.mixture_fit).

Per audio channel, every bin of the mixture's STFT (window in seconds, so any rate works) gets
the features: log-magnitude of the mixture, log-magnitudes of the S guides (both relative to the
mixture's mean log-magnitude, so the input level does not matter), the guides' soft masks and
1 above ``band_hz`` (0 below). Dilated convolutions (2**i for the i-th) give S logits per bin; the softmax over stems of
logits + log(guides' soft masks) multiplies the mixture's complex STFT, so the stems sum to the
mixture. The last layer starts at zero: untrained, the decoder is ``mask_mixture``.

``frequency_stride`` r runs the network on rows of r bins averaged and repeats its logits back
over them: r times cheaper (the full-band maps dominate its cost), the guides' own masks still
resolve every bin through the skip term.

``use_guides: false`` is the ablation: the same network and size, every guide-derived input zero
and the skip term log(1/S) (an equal split untrained), so it separates from the mixture alone.
"""

from __future__ import annotations

import math

import torch
from pydantic import Field, field_validator
from torch import Tensor, nn
from torch.nn import functional as F

from tokensep_core import STEMS
from tokensep_core.config import ComponentConfig
from tokensep_core.errors import ConfigError
from tokensep_core.interfaces import MixtureDecoder
from tokensep_core.separation.mixture_fit import MASK_WINDOW_SECONDS, MaskSTFT, soft_masks

MAGNITUDE_FLOOR = 1e-5
"""Magnitudes are floored here before their log."""
MASK_FLOOR = 1e-7
"""Masks are floored here before their log, so a logit can still lift a stem the guides gave none of a bin."""


class SpectralMaskDecoderConfig(ComponentConfig):
    stems: tuple[str, ...] = Field(STEMS, min_length=1, description="the guides' stems, in order (the separator's)")
    use_guides: bool = Field(True, description="false: the ablation that never sees the guides (same network and size)")
    width: int = Field(32, ge=1, description="channels of every hidden convolution")
    depth: int = Field(4, ge=1, description="hidden convolutions (with GELU) before the output layer; the i-th dilated by 2**i")
    kernel: int = Field(3, ge=1, description="odd kernel size over frequency bins and frames")
    window_seconds: float = Field(MASK_WINDOW_SECONDS, gt=0, description="STFT window; mixture_fit's keeps the untrained decoder = mask")
    frequency_stride: int = Field(
        1, ge=1, description="bins averaged into one row of the network's maps (its cost / stride); its logits are repeated back over them"
    )

    @field_validator("kernel")
    @classmethod
    def _odd(cls, kernel: int) -> int:
        if kernel % 2 == 0:
            raise ValueError(f"kernel must be odd (the maps keep their size), got {kernel}")
        return kernel

    @field_validator("stems")
    @classmethod
    def _distinct(cls, stems: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(stems)) != len(stems):
            raise ValueError(f"stems {list(stems)} names a stem twice")
        return stems


class SpectralMaskDecoder(MixtureDecoder):
    """Learned soft masks over the mixture's STFT, guided by the generated stems."""

    Config = SpectralMaskDecoderConfig

    def __init__(self, config: SpectralMaskDecoderConfig) -> None:
        super().__init__()
        self.config = config
        self.stems = config.stems
        self.uses_guides = config.use_guides
        n_stems = len(config.stems)
        layers: list[nn.Module] = []
        channels = 2 * n_stems + 2  # mixture, S guides, S masks, above-band flag
        for i in range(config.depth):  # dilations 1, 2, 4, …: a wide context at a small cost
            dilation = 2**i
            layers += [
                nn.Conv2d(channels, config.width, config.kernel, padding=dilation * (config.kernel // 2), dilation=dilation),
                nn.GELU(),
            ]
            channels = config.width
        self.hidden = nn.Sequential(*layers)
        self.out = nn.Conv2d(config.width, n_stems, 1)
        nn.init.zeros_(self.out.weight)  # untrained: exactly the skip term's split
        nn.init.zeros_(self.out.bias)

    def forward(self, mixture: Tensor, guides: Tensor, sample_rate: int, band_hz: float | None = None) -> Tensor:
        """mixture ``[B, C, L]``, guides ``[B, S, C, L]`` -> stems ``[B, S, C, L]`` summing to the mixture."""
        batch, n_stems, channels, length = guides.shape
        if n_stems != len(self.stems) or mixture.shape != (batch, channels, length):
            raise ConfigError(
                f"mixture decoder for {len(self.stems)} stems got mixture {list(mixture.shape)} and guides {list(guides.shape)}; "
                f"expected [B, C, L] and [B, {len(self.stems)}, C, L]"
            )
        stft = MaskSTFT.of(sample_rate, length, mixture.device, self.config.window_seconds)
        spectrum = stft(mixture)  # [B, C, F, N]
        bins, frames = spectrum.shape[-2:]
        top = stft.band_bins(sample_rate, band_hz)
        mixture_log = log_magnitude(spectrum)
        level = mixture_log.mean(dim=(-2, -1), keepdim=True)  # [B, C, 1, 1]
        if self.uses_guides:
            spectra = stft(guides)  # [B, S, C, F, N]
            masks = soft_masks(spectra, top)
            guide_log = log_magnitude(spectra) - level.unsqueeze(1)
            skip = masks.clamp_min(MASK_FLOOR).log()
        else:
            masks = guide_log = spectrum.real.new_zeros(batch, n_stems, channels, bins, frames)
            skip = torch.full_like(masks, -math.log(n_stems))
        above = (torch.arange(bins, device=mixture.device) >= top).to(masks.dtype)
        features = torch.cat(
            [(mixture_log - level).unsqueeze(1), guide_log, masks, above.view(1, 1, 1, bins, 1).expand(batch, 1, channels, bins, frames)],
            dim=1,
        )  # [B, 2S + 2, C, F, N]
        features = features.transpose(1, 2).reshape(batch * channels, -1, bins, frames)
        logits = self._logits(features)  # [B * C, S, F, N]
        logits = logits.float().reshape(batch, channels, n_stems, bins, frames).transpose(1, 2)
        weights = torch.softmax(logits + skip, dim=1)
        return stft.inverse(weights * spectrum.unsqueeze(1)).to(mixture.dtype)

    def _logits(self, features: Tensor) -> Tensor:
        """features ``[B, K, F, N]`` -> logits ``[B, S, F, N]``, the network run on rows of
        ``frequency_stride`` bins averaged (the last row padded with its edge bin)."""
        stride, bins = self.config.frequency_stride, features.shape[-2]
        if stride == 1:
            return self.out(self.hidden(features))
        rows = -(-bins // stride)
        pooled = F.avg_pool2d(F.pad(features, (0, 0, 0, rows * stride - bins), mode="replicate"), (stride, 1))
        return self.out(self.hidden(pooled)).repeat_interleave(stride, dim=-2)[..., :bins, :]


def log_magnitude(spectra: Tensor) -> Tensor:
    """complex spectra -> log of their magnitudes, floored at :data:`MAGNITUDE_FLOOR`."""
    return spectra.abs().clamp_min(MAGNITUDE_FLOOR).log()
