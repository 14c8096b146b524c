"""Chunked overlap-add inference: exact reconstruction, lengths, batching, crossfades."""

import pytest
import torch

from tokensep_core.audio.chunking import chunked_apply, crossfade_window, segment_starts
from tokensep_core.errors import ConfigError


@pytest.mark.parametrize("length", [1, 7, 99, 100, 101, 175, 176, 250, 1000, 1234])
@pytest.mark.parametrize("overlap", [0.0, 0.25, 0.5, 0.75])
def test_identity_reconstructs_input_for_any_length(length: int, overlap: float) -> None:
    wav = torch.randn(2, length, generator=torch.Generator().manual_seed(length))
    out = chunked_apply(lambda x: x, wav, segment=100, overlap=overlap, batch_size=3)
    assert out.shape == wav.shape
    torch.testing.assert_close(out, wav, atol=1e-6, rtol=1e-6)


@pytest.mark.parametrize("length", [50, 300, 1001])
def test_weights_sum_to_one_everywhere(length: int) -> None:
    out = chunked_apply(torch.ones_like, torch.zeros(1, length), segment=64, overlap=0.5)
    torch.testing.assert_close(out, torch.ones(1, length))


def test_complementary_ramps_sum_to_one() -> None:
    overlap, hop = 16, 48
    first = crossfade_window(64, overlap, fade_in=False, fade_out=True)
    second = crossfade_window(64, overlap, fade_in=True, fade_out=False)
    torch.testing.assert_close(first[hop:] + second[:overlap], torch.ones(overlap))
    assert first[0] == 1 and second[-1] == 1 and (first > 0).all() and (second > 0).all()


def test_batch_fn_sees_bounded_fixed_size_batches_and_extra_dims() -> None:
    seen = []

    def stems(x: torch.Tensor) -> torch.Tensor:
        seen.append(tuple(x.shape))
        return torch.stack([x, 2 * x, -x], dim=1)  # [B, 3, C, L]

    wav = torch.randn(2, 10_000, generator=torch.Generator().manual_seed(0))
    out = chunked_apply(stems, wav, segment=512, overlap=0.25, batch_size=4)
    assert out.shape == (3, 2, 10_000)
    torch.testing.assert_close(out[1], 2 * wav, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(out[2], -wav, atol=1e-5, rtol=1e-5)
    assert all(shape[0] <= 4 and shape[1:] == (2, 512) for shape in seen)
    assert sum(shape[0] for shape in seen) == len(segment_starts(10_000, 512, 512 - 128))


def test_crossfade_blends_neighbouring_segments() -> None:
    # Each segment outputs a constant: its own index. In an overlap the result lies strictly
    # between the two neighbours' constants, outside it equals the segment's own.
    counter = iter(range(100))
    out = chunked_apply(lambda x: torch.full_like(x, float(next(counter))), torch.zeros(1, 300), segment=100, overlap=0.5)
    assert out[0, 0] == 0 and out[0, -1] == out.max()
    overlap_region = out[0, 50:100]
    assert ((overlap_region > 0) & (overlap_region < 1)).all()
    assert (overlap_region.diff() > 0).all()


def test_bad_settings_are_config_errors() -> None:
    with pytest.raises(ConfigError, match="overlap"):
        chunked_apply(lambda x: x, torch.zeros(1, 10), segment=4, overlap=1.0)
    with pytest.raises(ConfigError, match="segment"):
        chunked_apply(lambda x: x, torch.zeros(1, 10), segment=0)
