"""The EnCodec adapter (architecture built offline from the encodec package)."""

import pytest
import torch

from tokensep_codecs.encodec_codec import EncodecCodec, EncodecCodecConfig
from tokensep_core.testing import check_codec, check_registered

TINY = dict(sample_rate=16000, n_filters=4, ratios=[5, 4, 2], dimension=16, lstm=1, n_q=4, codebook_size=64, kmeans_init=False)


def tiny(**overrides) -> EncodecCodec:
    torch.manual_seed(0)
    return EncodecCodec(EncodecCodecConfig(**{**TINY, **overrides}))


def test_registered_tiny_passes_conformance():
    codec = check_registered("codec", "encodec", TINY)
    assert (codec.frame_rate, codec.hop_length, codec.num_codebooks) == (400.0, 40, 4)


def test_published_architectures_build_offline():
    for preset, rate, channels, codebooks in (("encodec_24khz", 75.0, 1, 32), ("encodec_48khz", 150.0, 2, 16)):
        codec = EncodecCodec(EncodecCodecConfig(preset=preset))
        assert (codec.frame_rate, codec.channels, codec.num_codebooks) == (rate, channels, codebooks)
    assert EncodecCodec(EncodecCodecConfig(bandwidth=6.0)).num_codebooks == 8  # 6 kbps at 75 Hz x 10 bits


def test_bandwidth_selects_the_leading_codebooks(tone):
    full = tiny().eval()
    low = tiny(bandwidth=6.5).eval()  # 6 bits x 400 Hz = 2.4 kbps per codebook -> 2 codebooks
    low.load_state_dict(full.state_dict())
    wav = tone(0.1, 16000)
    with torch.inference_mode():
        codes = full.encode(wav)
        assert low.num_codebooks == 2 and torch.equal(low.encode(wav), codes[:, :2])
        assert low.decode(codes[:, :2]).shape == (1, 1, 40 * 40)


@pytest.mark.parametrize("mode", ["native", "per_channel", "mid_side"])
def test_stereo_modes(mode):
    codec = tiny(channels=2, stereo_mode=mode)
    assert codec.num_codebooks == (4 if mode == "native" else 8)
    check_codec(codec, seconds=0.2)


def test_local_weights_round_trip(tmp_path, tone):
    source = tiny()
    source.train()
    source(tone(0.3, 16000))  # one training forward moves the EMA codebooks
    path = tmp_path / "encodec.pt"
    torch.save(source.model.state_dict(), path)
    loaded = tiny(weights=path).eval()
    wav = tone(0.1, 16000)
    with torch.inference_mode():
        assert torch.equal(loaded.encode(wav), source.eval().encode(wav))


def test_training_forward_losses_are_finite_and_backprop(tone):
    codec = tiny().train()
    losses = codec(tone(0.3, 16000, batch=2)).losses
    assert {"mel", "stft", "waveform", "commitment"} <= set(losses)
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    assert any(p.grad is not None and p.grad.abs().sum() > 0 for p in codec.model.encoder.parameters())
