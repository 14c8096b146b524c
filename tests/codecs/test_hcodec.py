"""HCodec: contract, stereo, fewer codebooks, losses, presets, semantic sources."""

import pytest
import torch

from tokensep_codecs.hcodec import HCodec, HCodecConfig
from tokensep_core.errors import ConfigError
from tokensep_core.plugins import load_registry
from tokensep_core.testing import check_codec, check_registered


def tiny(**overrides) -> HCodec:
    torch.manual_seed(0)
    return HCodec(HCodecConfig(preset="tiny", **overrides))


def test_registered_tiny_passes_conformance():
    codec = check_registered("codec", "hcodec", {"preset": "tiny"})
    assert (codec.frame_rate, codec.hop_length, codec.num_codebooks, codec.codebook_size) == (100.0, 160, 4, 64)


@pytest.mark.parametrize("mode", ["per_channel", "mid_side"])
def test_stereo_codes_are_per_channel(mode, tone):
    codec = tiny(channels=2, stereo_mode=mode).eval()
    check_codec(codec)
    wav = tone(0.2, 16000, channels=2)
    with torch.inference_mode():
        codes = codec.encode(wav)
        assert codes.shape == (1, 2 * 4, 20)
        # channel 0 of a stereo item is coded like a mono item holding that (mid or left) signal
        mono = tiny().eval()
        first = (wav[:, :1] + wav[:, 1:]) / 2 if mode == "mid_side" else wav[:, :1]
        assert torch.equal(codes[:, :4], mono.encode(first))
        assert codec.decode(codes).shape == (1, 2, 20 * 160)


def test_mid_side_needs_two_channels():
    with pytest.raises(ConfigError, match="stereo_mode"):
        load_registry().build("codec", {"name": "hcodec", "params": {"preset": "tiny", "stereo_mode": "mid_side"}})


def test_fewer_quantizers_at_inference_use_the_leading_codebooks(tone):
    full = tiny(quantizer_dropout=0.5).eval()
    fewer = tiny(quantizer_dropout=0.5, n_acoustic_quantizers=1, n_semantic_quantizers=1).eval()
    fewer.load_state_dict(full.state_dict())
    wav = tone(0.3, 16000)
    with torch.inference_mode():
        codes = full.encode(wav)
        few = fewer.encode(wav)
        assert fewer.num_codebooks == 2 and few.shape == (1, 2, 30)
        assert torch.equal(few, codes[:, [0, 2]])  # first acoustic, first semantic
        out, out_full = fewer.decode(few), full.decode(codes)
    assert out.shape == (1, 1, 30 * 160) and torch.isfinite(out).all()
    assert not torch.allclose(out, out_full)


def test_quantizer_dropout_varies_the_codebooks_used_in_training(tone):
    codec = tiny(quantizer_dropout=1.0).train()
    wav = tone(0.3, 16000, batch=4)
    torch.manual_seed(1)
    first = codec(wav).recon
    torch.manual_seed(2)
    second = codec(wav).recon
    assert not torch.allclose(first, second)
    no_dropout = tiny(quantizer_dropout=0.0).train()
    torch.manual_seed(1)
    a = no_dropout(wav).recon
    torch.manual_seed(2)
    assert torch.allclose(a, no_dropout(wav).recon)


def test_training_forward_losses_are_finite_and_reach_both_paths(tone):
    codec = tiny().train()
    losses = codec(tone(0.5, 16000, batch=2)).losses
    expected = {
        "mel",
        "stft",
        "waveform",
        "acoustic_commitment",
        "acoustic_codebook",
        "semantic_commitment",
        "semantic_codebook",
        "semantic",
    }
    assert set(losses) == expected
    assert all(v.dim() == 0 and torch.isfinite(v) for v in losses.values())
    sum(losses.values()).backward()
    for module in (codec.acoustic_encoder, codec.semantic_encoder, codec.backbone, codec.head, codec.semantic_head):
        grads = [p.grad for p in module.parameters() if p.requires_grad]
        assert grads and all(g is not None for g in grads) and any(g.abs().sum() > 0 for g in grads)


def test_a_few_steps_reduce_the_reconstruction_loss(tone):
    codec = tiny()
    wav = tone(0.5, 16000, batch=2)

    def reconstruction() -> float:
        codec.eval()
        with torch.no_grad():
            losses = codec(wav).losses
        return float(losses["mel"] + losses["stft"])

    before = reconstruction()
    optimizer = torch.optim.Adam([p for p in codec.parameters() if p.requires_grad], lr=3e-3)
    codec.train()
    for _ in range(15):
        optimizer.zero_grad()
        sum(codec(wav).losses.values()).backward()
        optimizer.step()
    after = reconstruction()
    assert after < 0.8 * before, (before, after)


def test_cqt_semantic_source(tone):
    codec = tiny(semantic_source={"name": "cqt", "params": {"n_bins": 60, "bins_per_octave": 12}})
    check_codec(codec)
    features = codec.semantic_source(tone(0.3, 16000), 30)
    assert features.shape == (1, 60, 30)
    # the 220 Hz partial dominates: the strongest CQT bin sits at 220 Hz (A3)
    fmin = 32.70
    strongest = int(features.mean(-1)[0].argmax())
    assert abs(fmin * 2 ** (strongest / 12) - 220) < 220 * 0.06


def test_cqt_beyond_nyquist_is_a_config_error():
    with pytest.raises(ConfigError, match="n_bins"):
        tiny(semantic_source={"name": "cqt", "params": {"n_bins": 120}})


def test_unknown_semantic_source_and_typo_are_config_errors():
    registry = load_registry()
    with pytest.raises(ConfigError, match="semantic_source"):
        registry.build("codec", {"name": "hcodec", "params": {"preset": "tiny", "semantic_source": {"name": "mfcc"}}})
    with pytest.raises(ConfigError, match="unknown field"):
        registry.build("codec", {"name": "hcodec", "params": {"preset": "tiny", "codebook_sise": 32}})


def test_explicit_fields_override_the_preset_and_resolved_config_rebuilds():
    config = HCodecConfig(preset="tiny", codebook_size=32, adversarial={"enabled": True})
    assert config.codebook_size == 32 and config.encoder_strides == [4, 5, 8]
    assert config.adversarial.enabled and config.adversarial.fft_sizes == [512, 256]
    assert HCodecConfig.model_validate(config.model_dump()) == config


@pytest.mark.parametrize(
    "preset, sample_rate, frame_rate, hop, codebooks",
    [("hcodec-1.0", 16000, 25.0, 640, 8), ("hcodec-2.0", 48000, 12.5, 3840, 32), ("small", 16000, 50.0, 320, 8)],
)
def test_presets_build_with_the_documented_shapes(preset, sample_rate, frame_rate, hop, codebooks):
    codec = HCodec(HCodecConfig(preset=preset)).eval()
    assert (codec.sample_rate, codec.frame_rate, codec.hop_length) == (sample_rate, frame_rate, hop)
    assert (codec.num_codebooks, codec.codebook_size) == (codebooks, 1024)
    with torch.inference_mode():  # one code frame only: enough to check the shapes end to end
        codes = codec.encode(torch.zeros(1, 1, hop))
        assert codes.shape == (1, codebooks, 1)
        assert codec.decode(codes).shape == (1, 1, hop)


def test_hcodec_2_0_inverse_stft_matches_the_reference_front_end():
    config = HCodecConfig(preset="hcodec-2.0")
    assert (config.acoustic_codebooks, config.semantic_codebooks) == (16, 16)
    assert (config.n_fft, config.stft_hop) == (1920, 960)


def test_stft_acoustic_front_end(tone):
    codec = tiny(acoustic_frontend="stft", encoder_dim=32, encoder_layers=1)
    check_codec(codec)
    assert codec.acoustic_encoder(torch.zeros(2, 1, 7 * 160)).shape == (2, 32, 7)
    losses = codec(tone(0.3, 16000)).losses
    sum(losses.values()).backward()
    assert all(p.grad is not None for p in codec.acoustic_encoder.parameters())
    assert HCodecConfig(preset="hcodec-2.0").acoustic_frontend == "stft"


def test_crops_shorter_than_the_loss_windows_are_config_errors():
    with pytest.raises(ConfigError, match="too short"):
        tiny()(torch.zeros(1, 1, 100))


def test_briefly_trained_codec_renders_each_sine_at_its_own_frequency():
    """The codes must carry pitch and the inverse-STFT head must render it: two sines trained
    together for 150 steps come back each at its own frequency (a decoder that ignored its
    codes, or rendered a fixed buzz, gives one peak for both)."""
    torch.manual_seed(0)
    codec = HCodec(HCodecConfig(preset="tiny", acoustic_frontend="stft", encoder_dim=32, encoder_layers=1))
    rate, frequencies = 16000, (300.0, 1300.0)
    t = torch.arange(4000) / rate
    wav = torch.stack([0.3 * torch.sin(2 * torch.pi * f * t) for f in frequencies]).unsqueeze(1)
    optimizer = torch.optim.Adam(codec.parameters(), 3e-3)
    for _ in range(150):
        loss = sum(codec(wav).losses.values())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    codec.eval()
    with torch.inference_mode():
        out = codec.decode(codec.encode(wav))[:, 0]
    peaks = [float(torch.fft.rfft(o).abs().argmax()) * rate / o.shape[-1] for o in out]
    assert peaks == list(frequencies)


def test_head_at_the_stft_frame_rate_passes_conformance_and_changes_the_decoder(tone):
    """``head_rate: stft`` upsamples the hidden frames before the head: same contract and shapes,
    a different decoder (its own upsampling block), while the default's weights stay as they were."""
    codec = check_registered("codec", "hcodec", {"preset": "tiny", "head_rate": "stft"})
    default = tiny()
    assert any(name.startswith("upsampler.") for name in codec.state_dict())
    assert not any(name.startswith("upsampler.") for name in default.state_dict())
    with torch.inference_mode():
        assert codec.eval().decode(codec.encode(tone(0.2, 16000))).shape == (1, 1, 20 * 160)
