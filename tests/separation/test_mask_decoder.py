"""The mixture decoder ``spectral_mask``: it splits the mixture exactly, starts as the soft-mask
split it refines, and its no-guide ablation has its size and never reads the guides."""

import math

import pytest
import torch

from tokensep_core.errors import ConfigError
from tokensep_core.interfaces import parameter_count
from tokensep_core.plugins import load_registry
from tokensep_core.separation.inference import merge_inference
from tokensep_core.separation.mask_decoder import SpectralMaskDecoder, SpectralMaskDecoderConfig
from tokensep_core.separation.mixture_fit import mask_mixture
from tokensep_core.testing import check_registered

RATE = 22050


pytestmark = pytest.mark.usefixtures("single_thread")


def _signals(seed: int, stems: int = 4, channels: int = 2, length: int = 11025) -> tuple[torch.Tensor, torch.Tensor]:
    """A mixture [1, C, L] with tones above an 8-kHz band, and rough guides [1, S, C, L]."""
    generator = torch.Generator().manual_seed(seed)
    t = torch.arange(length) / RATE
    tones = torch.stack([torch.sin(2 * math.pi * f * t) for f in (220.0, 1500.0, 9000.0)]).sum(0)
    mixture = (0.2 * tones + 0.05 * torch.randn(channels, length, generator=generator)).unsqueeze(0)
    guides = 0.1 * torch.randn(1, stems, channels, length, generator=generator)
    return mixture, guides


def _decoder(use_guides: bool, trained_like: bool = False, stride: int = 1) -> SpectralMaskDecoder:
    """A decoder; ``trained_like``: every weight (the zero-initialised output layer too) drawn at random."""
    torch.manual_seed(0)
    config = SpectralMaskDecoderConfig(use_guides=use_guides, width=8, depth=2, frequency_stride=stride)
    decoder = SpectralMaskDecoder(config).eval()
    if trained_like:
        generator = torch.Generator().manual_seed(1)
        with torch.no_grad():
            for parameter in decoder.parameters():
                parameter.copy_(0.3 * torch.randn(parameter.shape, generator=generator))
    return decoder


@pytest.mark.parametrize("stride", [1, 3])
@torch.inference_mode()
def test_an_untrained_decoder_is_the_soft_mask_split_and_its_ablation_an_equal_split(stride: int) -> None:
    mixture, guides = _signals(0)
    for band_hz in (None, 8000.0):
        expected = mask_mixture(mixture, guides, RATE, band_hz)
        assert torch.allclose(_decoder(True, stride=stride)(mixture, guides, RATE, band_hz), expected, atol=1e-5)
    equal = (mixture / 4).unsqueeze(1).expand(-1, 4, -1, -1)
    assert torch.allclose(_decoder(False, stride=stride)(mixture, guides, RATE, 8000.0), equal, atol=1e-5)
    assert not torch.allclose(equal, expected, atol=1e-3), "the two references differ, so each check can fail"


@pytest.mark.parametrize("stride", [1, 3])
@torch.inference_mode()
def test_trained_outputs_sum_to_the_mixture_and_only_the_guided_decoder_reads_the_guides(stride: int) -> None:
    mixture, guides = _signals(2)
    _, other = _signals(3)
    for use_guides in (True, False):
        decoder = _decoder(use_guides, trained_like=True, stride=stride)
        out = decoder(mixture, guides, RATE, 8000.0)
        assert out.shape == guides.shape
        assert torch.allclose(out.sum(dim=1), mixture, atol=1e-5)
        assert not torch.allclose(out, mask_mixture(mixture, guides, RATE, 8000.0), atol=1e-3), "random weights change the split"
        again = decoder(mixture, other, RATE, 8000.0)
        if use_guides:
            assert not torch.allclose(again, out, atol=1e-3)
        else:
            assert torch.equal(again, out), "the ablation never reads the guides"


@torch.inference_mode()
def test_a_frequency_stride_runs_the_network_on_pooled_rows_and_repeats_its_logits() -> None:
    features = torch.randn(2, 10, 257, 9, generator=torch.Generator().manual_seed(4))  # 257 bins: the last row is padded
    strided, full = _decoder(True, trained_like=True, stride=4), _decoder(True, trained_like=True)
    logits = strided._logits(features)
    assert logits.shape == (2, 4, 257, 9)
    rows = logits[..., :256, :].unflatten(-2, (64, 4))
    assert torch.equal(rows, rows[..., :1, :].expand_as(rows)), "every bin of a row gets the row's logits"
    padded = torch.cat([features, features[..., -1:, :].expand(-1, -1, 3, -1)], dim=-2)  # 260 bins, the edge bin repeated
    pooled = padded.unflatten(-2, (65, 4)).mean(-2)
    assert torch.allclose(logits[..., ::4, :], full._logits(pooled), atol=1e-5)
    assert parameter_count(strided) == parameter_count(full)


def test_the_ablation_has_the_same_size_and_the_default_stays_small() -> None:
    registry = load_registry()
    guided = registry.build("mixture_decoder", "spectral_mask")
    blind = registry.build("mixture_decoder", "spectral_mask", {"use_guides": False})
    assert parameter_count(guided) == parameter_count(blind) < 500_000
    assert (guided.uses_guides, blind.uses_guides) == (True, False)
    assert [p.shape for p in guided.parameters()] == [p.shape for p in blind.parameters()]


@pytest.mark.parametrize("use_guides", [True, False])
def test_both_variants_pass_the_conformance_checks(use_guides: bool) -> None:
    check_registered("mixture_decoder", "spectral_mask", {"use_guides": use_guides, "width": 8, "depth": 2})


def test_bad_settings_are_one_line_errors() -> None:
    with pytest.raises(ConfigError, match="kernel must be odd") as err:
        load_registry().build("mixture_decoder", "spectral_mask", {"kernel": 4})
    assert "\n" not in str(err.value)
    cases = (
        ({"mixture_consistency": "decoder"}, "mixture_consistency 'decoder' needs mixture_decoder"),
        (
            {"mixture_consistency": "mask", "mixture_decoder": "runs/x"},
            "mixture_decoder 'runs/x' is used only with mixture_consistency 'decoder', not 'mask'",
        ),
        ({"mixture_decoder": "runs/x"}, "is used only with mixture_consistency 'decoder', not 'off'"),
    )
    for overrides, message in cases:
        with pytest.raises(ConfigError) as err:
            merge_inference({}, overrides, "option")
        assert str(err.value).startswith("option: ") and message in str(err.value)
        assert "\n" not in str(err.value)


def test_choosing_another_method_drops_a_stored_decoder() -> None:
    stored = merge_inference({}, {"mixture_consistency": "decoder", "mixture_decoder": "runs/x"}).model_dump()
    assert merge_inference(stored, {"mixture_consistency": "mask"}).mixture_decoder is None
    assert str(merge_inference(stored, {"segment_seconds": 1.0}).mixture_decoder) == "runs/x"
