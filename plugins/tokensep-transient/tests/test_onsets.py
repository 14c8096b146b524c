"""Spectral-flux envelope, onset loss weights and onset tokens on click tracks."""

import torch

from tokensep_core.plugins import load_registry
from tokensep_transient.onsets import onset_weights, spectral_flux


def test_flux_peaks_at_the_click_and_is_zero_on_silence(clicks) -> None:
    wav = clicks(4000, [1000])
    flux = spectral_flux(wav, 256, 64)
    assert flux.shape == (1, 4000 // 64)
    assert abs(int(flux.argmax()) * 64 - 1000) <= 128
    assert spectral_flux(torch.zeros(1, 1, 4000), 256, 64).abs().max() == 0


def test_weights_emphasise_the_attack(clicks) -> None:
    weights = onset_weights(clicks(4000, [2000]), 256, 64, gain=4.0)
    assert weights.shape == (1, 1, 4000)
    assert weights.min() >= 1.0 and abs(float(weights.max()) - 5.0) < 1e-4
    assert weights[0, 0, 1950:2050].mean() > 4.0 and weights[0, 0, :1000].max() < 1.5


def test_onset_tokens_mark_the_frame_and_position_of_a_click(tiny, clicks) -> None:
    codec = load_registry().build("codec", {"name": "hcodec_onset_tokens", "params": tiny["hcodec_onset_tokens"]})
    tokens = codec.onset_tokens(clicks(1600, [820]))  # hop 160, 4 positions of 40 samples: frame 5
    assert tokens.shape == (1, 10)
    assert tokens[0, 5] > 0 and (tokens[0, :5] == 0).all()
    assert int(tokens[0, 5] % 4) in (0, 1)  # the click starts in the first 40-sample sub-frame
    assert (codec.onset_tokens(torch.zeros(1, 1, 1600)) == 0).all()


def test_untrained_sharpener_is_plain_hcodec(tiny, clicks) -> None:
    torch.manual_seed(0)
    codec = load_registry().build("codec", {"name": "hcodec_onset_tokens", "params": tiny["hcodec_onset_tokens"]}).eval()
    wav = clicks(1600, [300, 900])
    with torch.inference_mode():
        codes = codec.encode(wav)
        assert torch.allclose(codec.decode(codes), codec.low.decode(codes[:, :-1]))
