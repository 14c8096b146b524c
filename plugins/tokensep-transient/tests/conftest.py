"""Fixtures of the transient plugin's tests: tiny configs, single-threaded torch, a click track."""

import pytest
import torch

# tiny HCodec (16 kHz, hop 160) plus tiny variant-specific parts
TINY = {
    "hcodec_transient_loss": {"preset": "tiny"},
    "hcodec_dual_rate": {
        "preset": "tiny",
        "high_hop": 40,
        "high_stft_frames": 2,
        "high_encoder_dim": 16,
        "high_encoder_layers": 1,
        "high_latent_dim": 16,
        "high_decoder_dim": 16,
        "high_decoder_layers": 1,
    },
    "hcodec_onset_tokens": {"preset": "tiny", "onset_positions": 4, "onset_levels": 8},
}


@pytest.fixture(autouse=True)
def single_thread():
    previous = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(previous)


@pytest.fixture
def tiny() -> dict[str, dict]:
    return TINY


@pytest.fixture
def clicks():
    return make_clicks


def make_clicks(samples: int, at: list[int], batch: int = 1, channels: int = 1) -> torch.Tensor:
    """Decaying noise bursts starting at the sample indices ``at`` on silence, ``[batch, channels, samples]``."""
    generator = torch.Generator().manual_seed(0)
    wav = torch.zeros(samples)
    decay = torch.exp(-torch.arange(400) / 60.0)
    for start in at:
        burst = 0.5 * torch.randn(400, generator=generator) * decay
        wav[start : start + 400] += burst[: samples - start]
    return wav.repeat(batch, channels, 1)
