import math

import torch

from tokensep_core.separation.mixture_fit import fit_to_mixture, mask_mixture


def _tone(freq: float, rate: int, length: int) -> torch.Tensor:
    return torch.sin(2 * math.pi * freq * torch.arange(length) / rate)


def test_mask_splits_the_mixture_by_where_the_guides_have_energy() -> None:
    rate, length = 16000, 16000
    low, high = _tone(220, rate, length), _tone(3000, rate, length)
    mixture = (low + high).reshape(1, 1, length)
    # rough guides: right frequencies, wrong phase and level, as generated stems would be
    guides = torch.stack([0.3 * _tone(220, rate, length).roll(77), 2.0 * _tone(3000, rate, length).roll(13)]).reshape(1, 2, 1, length)
    out = mask_mixture(mixture, guides, rate)
    inner = slice(2000, -2000)
    assert torch.allclose(out.sum(dim=1), mixture, atol=1e-4)
    for k, target in enumerate((low, high)):
        error = (out[0, k, 0, inner] - target[inner]).pow(2).mean() / target[inner].pow(2).mean()
        assert error < 1e-3, f"stem {k}: relative error {error:.2e}; the mask takes the mixture's own waveform"


def test_silent_guides_share_the_mixture_equally_and_shift_adds_the_residual() -> None:
    mixture = torch.randn(2, 3, 4000, generator=torch.Generator().manual_seed(0))
    silent = torch.zeros(2, 4, 3, 4000)
    assert torch.allclose(mask_mixture(mixture, silent, 16000), (mixture / 4).unsqueeze(1).expand(-1, 4, -1, -1), atol=1e-5)
    stems = torch.randn(2, 4, 3, 4000, generator=torch.Generator().manual_seed(1))
    shifted = fit_to_mixture(mixture, stems, "shift", 16000)
    assert torch.allclose(shifted.sum(dim=1), mixture, atol=1e-5)
    assert torch.equal(fit_to_mixture(mixture, stems, "off", 16000), stems)


def test_segments_shorter_than_the_window_are_masked_too() -> None:
    mixture = torch.randn(1, 1, 300, generator=torch.Generator().manual_seed(2))
    stems = torch.randn(1, 4, 1, 300, generator=torch.Generator().manual_seed(3))
    assert torch.allclose(mask_mixture(mixture, stems, 44100).sum(dim=1), mixture, atol=1e-5)


def test_above_the_guides_band_the_top_octave_mask_carries_on() -> None:
    rate, length = 44100, 44100
    # stem 0 owns everything 4-8 kHz in the guides; stem 1 only the lows; nothing above 8 kHz
    guides = torch.stack([_tone(6000, rate, length), _tone(200, rate, length)]).reshape(1, 2, 1, length)
    mixture = (_tone(12000, rate, length) + _tone(200, rate, length)).reshape(1, 1, length)
    out = mask_mixture(mixture, guides, rate, band_hz=8000)
    inner = slice(4000, -4000)
    high = _tone(12000, rate, length)[inner]
    assert (out[0, 0, 0, inner] - high - 0).pow(2).mean() < 0.05 * high.pow(2).mean(), "the 12 kHz tone goes to stem 0"
    assert torch.allclose(out.sum(dim=1), mixture, atol=1e-4)
