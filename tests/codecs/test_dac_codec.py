"""The descript-audio-codec adapter."""

import pytest
import torch
from dac import DAC

from tokensep_codecs.dac_codec import DACCodec, DACCodecConfig
from tokensep_core.errors import CheckpointError
from tokensep_core.testing import check_codec, check_registered

TINY = dict(
    encoder_dim=4,
    encoder_rates=[2, 4, 5],
    decoder_dim=32,
    decoder_rates=[5, 4, 2],
    n_codebooks=3,
    codebook_size=64,
    codebook_dim=4,
    sample_rate=16000,
)


def tiny(**overrides) -> DACCodec:
    torch.manual_seed(0)
    return DACCodec(DACCodecConfig(**{**TINY, **overrides}))


def test_registered_tiny_passes_conformance():
    codec = check_registered("codec", "dac", TINY)
    assert (codec.frame_rate, codec.hop_length, codec.num_codebooks) == (400.0, 40, 3)


@pytest.mark.parametrize("mode", ["per_channel", "mid_side"])
def test_stereo_folds_channels(mode, tone):
    codec = tiny(channels=2, stereo_mode=mode).eval()
    check_codec(codec, seconds=0.2)
    wav = tone(0.1, 16000, channels=2)
    with torch.inference_mode():
        codes = codec.encode(wav)
        assert codes.shape == (1, 6, 40)
        right = tiny().eval().encode(wav[:, 1:] if mode == "per_channel" else (wav[:, :1] - wav[:, 1:]) / 2)
        assert torch.equal(codes[:, 3:], right)


def test_fewer_quantizers_decode_through_the_codes_api(tone):
    full, fewer = tiny().eval(), tiny(n_quantizers=1).eval()
    wav = tone(0.1, 16000)
    with torch.inference_mode():
        codes = full.encode(wav)
        assert torch.equal(fewer.encode(wav), codes[:, :1])
        z = full.model.quantizer.from_codes(codes[:, :1])[0]
        expected = full.model.decode(z)
        out = fewer.decode(codes[:, :1])
    torch.testing.assert_close(out[..., : expected.shape[-1]], expected)


def test_training_forward_losses_are_finite_and_backprop(tone):
    codec = tiny(quantizer_dropout=0.5).train()
    losses = codec(tone(0.3, 16000, batch=2)).losses
    assert {"mel", "stft", "waveform", "commitment", "codebook"} <= set(losses)
    assert all(torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    assert all(p.grad is not None for p in codec.model.encoder.parameters())


def test_weights_in_the_official_format_load_from_a_local_file(tmp_path, tone):
    torch.manual_seed(7)
    trained = DAC(**{k: v for k, v in TINY.items()})
    path = tmp_path / "weights.pth"
    trained.save(str(path), package=False)  # {"state_dict", "metadata": {"kwargs"}}, as the official files
    codec = tiny(weights=path).eval()
    wav = tone(0.1, 16000)
    with torch.inference_mode():
        codes = codec.encode(wav)
        trained.eval()
        expected = trained.encode(wav)[1]
    assert torch.equal(codes, expected)


def test_bad_weights_are_checkpoint_errors(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        tiny(weights=tmp_path / "missing.pth")
    path = tmp_path / "other.pth"
    DAC(**{**TINY, "n_codebooks": 2}).save(str(path), package=False)
    with pytest.raises(CheckpointError, match="n_codebooks=2"):
        tiny(weights=path)
    garbage = tmp_path / "garbage.pth"
    garbage.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="cannot read"):
        tiny(weights=garbage)
