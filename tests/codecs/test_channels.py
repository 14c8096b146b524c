"""Channel folding shared by the mono-core codecs."""

import torch

from tokensep_core.audio.channels import fold_channels, fold_codes, unfold_channels, unfold_codes


def test_fold_unfold_round_trip_per_channel_and_mid_side():
    wav = torch.randn(3, 2, 50, generator=torch.Generator().manual_seed(0))
    for mode in ("per_channel", "mid_side"):
        folded = fold_channels(wav, mode)
        assert folded.shape == (6, 1, 50)
        torch.testing.assert_close(unfold_channels(folded, 2, mode), wav)
    mid_side = fold_channels(wav, "mid_side").view(3, 2, 50)
    torch.testing.assert_close(mid_side[:, 0], (wav[:, 0] + wav[:, 1]) / 2)
    torch.testing.assert_close(mid_side[:, 1], (wav[:, 0] - wav[:, 1]) / 2)


def test_codes_are_channel_major():
    per_channel = torch.arange(4 * 3 * 2).view(4, 3, 2)  # [B*C, K, T'] with B=2, C=2
    codes = unfold_codes(per_channel, 2)
    assert codes.shape == (2, 6, 2)
    assert torch.equal(codes[1, 3:], per_channel[3])  # item 1, channel 1
    assert torch.equal(fold_codes(codes, 2), per_channel)


def test_unfold_keeps_extra_dims_and_codec_items_fold_only_for_a_mono_codec():
    from tokensep_core.audio.channels import to_codec_items

    stems = torch.arange(2 * 3 * 4 * 5).view(2 * 3, 4, 1, 5)  # [B*C, S, 1, T] with B=2, C=3
    unfolded = unfold_channels(stems, 3)
    assert unfolded.shape == (2, 4, 3, 5) and torch.equal(unfolded[1, 2, 0], stems[3, 2, 0])
    wav = torch.randn(2, 2, 80)
    assert torch.equal(to_codec_items(wav, 8000, 8000, 1), wav.reshape(4, 1, 80))
    assert to_codec_items(wav, 8000, 16000, 2).shape == (2, 2, 160)


def test_fit_length_trims_or_zero_pads():
    from tokensep_core.audio.length import fit_length

    wav = torch.ones(2, 5)
    assert torch.equal(fit_length(wav, 3), torch.ones(2, 3))
    assert torch.equal(fit_length(wav, 7), torch.cat([torch.ones(2, 5), torch.zeros(2, 2)], dim=-1))
