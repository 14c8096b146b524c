"""The dual-rate layout: high-rate frames folded into extra codebooks per low-rate frame."""

import torch
from einops import rearrange

from tokensep_core.plugins import load_registry


def build(tiny: dict, channels: int = 1):
    torch.manual_seed(0)
    params = {**tiny["hcodec_dual_rate"], "channels": channels}
    return load_registry().build("codec", {"name": "hcodec_dual_rate", "params": params}).eval()


def test_low_codes_are_hcodecs_and_high_codes_follow_the_documented_layout(tiny, clicks) -> None:
    codec = build(tiny)
    wav = clicks(1600, [500])
    with torch.inference_mode():
        codes = codec.encode(wav)
        assert codes.shape == (1, 4 + 4, 10)
        assert torch.equal(codes[:, :4], codec.low.encode(wav))
        residual = wav - codec.low.decode(codec.low.encode(wav))
        high = codec.high_quantizer(codec._high_latents(residual), n_quantizers=1)[1][:, :1]  # [1, 1, 40] at hop 40
        assert torch.equal(codes[0, 4 + 2, 3], high[0, 0, 3 * 4 + 2])  # frame 3, sub-frame 2
        assert torch.equal(rearrange(codes[:, 4:], "n (r k) t -> n k (t r)", r=4), high)


def test_high_path_adds_to_hcodec_output(tiny, clicks) -> None:
    codec = build(tiny)
    wav = clicks(1600, [500])
    with torch.inference_mode():
        codes = codec.encode(wav)
        high = rearrange(codes[:, 4:], "n (r k) t -> n k (t r)", r=4)
        residual = codec._high_decode(codec.high_quantizer.from_codes(high)[0])
        assert torch.allclose(codec.decode(codes), codec.low.decode(codes[:, :4]) + residual, atol=1e-6)


def test_stereo_codes_are_channel_major(tiny, clicks) -> None:
    codec = build(tiny, channels=2)
    left = clicks(1600, [500])
    wav = torch.cat([left, torch.zeros_like(left)], dim=1)
    with torch.inference_mode():
        codes = codec.encode(wav)
        assert codes.shape == (1, 16, 10)
        assert torch.equal(codes[:, :8], build(tiny).encode(left))
