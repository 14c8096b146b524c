import pytest
import torch

from tokensep_core.errors import CheckpointError
from tokensep_core.testing import check_encoder
from tokensep_encoders.conformer import ConformerEncoder, ConformerEncoderConfig
from tokensep_encoders.conv import ConvEncoder, ConvEncoderConfig
from tokensep_encoders.frozen_codec import FrozenCodecEncoder, FrozenCodecEncoderConfig


def build(name: str, **params):
    torch.manual_seed(0)
    if name == "conformer":
        return ConformerEncoder(ConformerEncoderConfig(preset="tiny", n_mels=16, output_dim=24, **params))
    if name == "conv":
        return ConvEncoder(ConvEncoderConfig(n_mels=16, hidden=16, layers=2, output_dim=24, **params))
    return FrozenCodecEncoder(FrozenCodecEncoderConfig(output_dim=24, **params))


NAMES = ["conformer", "conv", "frozen_codec"]


@pytest.mark.parametrize("name", NAMES)
def test_shapes_frame_rate_and_conformance(name) -> None:
    encoder = build(name).eval()
    check_encoder(encoder, seconds=0.5)
    wav = torch.randn(2, encoder.channels, 8000)
    embeds, mask = encoder(encoder.prepare(wav))
    assert embeds.shape[0] == 2 and embeds.shape[2] == 24
    assert abs(embeds.shape[1] - 0.5 * encoder.frame_rate) <= 1
    assert mask.all()


@pytest.mark.parametrize("name", NAMES)
def test_lengths_mask_padding_and_padding_does_not_leak_into_attention(name) -> None:
    encoder = build(name).eval()
    wav = torch.randn(2, encoder.channels, 8000)
    wav[1, :, 4000:] = 0
    lengths = encoder.feature_lengths(torch.tensor([8000, 4000]))
    features = encoder.prepare(wav)
    embeds, mask = encoder(features, lengths)
    assert mask[0].all() and mask[1].sum() == lengths[1] < mask.shape[1]
    # changing the padded features must not change the conformer's valid outputs
    if name == "conformer":
        noisy = features.clone()
        noisy[1, :, lengths[1] :] += 5.0
        again, _ = encoder(noisy, lengths)
        assert (again[1, : lengths[1]] - embeds[1, : lengths[1]]).abs().max() < 1e-4


def test_conformer_tiny_forward_backward() -> None:
    encoder = build("conformer").train()
    features = encoder.prepare(torch.randn(2, 1, 4000))
    embeds, _ = encoder(features)
    embeds.pow(2).mean().backward()
    grads = [p.grad for p in encoder.parameters() if p.requires_grad]
    assert all(g is not None for g in grads) and sum(g.abs().sum() for g in grads) > 0


def test_conformer_paper_preset_defaults() -> None:
    config = ConformerEncoderConfig()
    assert (config.n_mels, config.n_fft, config.hop_length, config.sample_rate) == (80, 640, 320, 16000)
    assert [config.resolved(k) for k in ("dim", "layers", "heads", "conv_kernel")] == [512, 6, 8, 31]


def test_frozen_codec_stays_frozen_and_only_embeddings_learn() -> None:
    encoder = build("frozen_codec").train()
    assert not encoder.codec.training
    trainable = {n for n, p in encoder.named_parameters() if p.requires_grad}
    assert trainable and all(n.startswith("embed.") for n in trainable)
    codes = encoder.prepare(torch.randn(1, 1, 1600))
    assert codes.dtype == torch.long and codes.shape[1] == encoder.codec.num_codebooks


def test_frozen_codec_loads_local_weights(tmp_path) -> None:
    from safetensors.torch import save_file

    source = build("frozen_codec")
    path = tmp_path / "codec.safetensors"
    save_file({k: v.contiguous() for k, v in source.codec.state_dict().items()}, str(path))
    torch.manual_seed(1)
    loaded = FrozenCodecEncoder(FrozenCodecEncoderConfig(output_dim=24, weights=path))
    wav = torch.randn(1, 1, 1600)
    assert torch.equal(loaded.prepare(wav), source.prepare(wav))
    (tmp_path / "bad.safetensors").write_bytes(b"not a safetensors file")
    with pytest.raises(CheckpointError, match="bad.safetensors"):
        FrozenCodecEncoder(FrozenCodecEncoderConfig(weights=tmp_path / "bad.safetensors"))


def test_inconsistent_configs_are_rejected_by_validation() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="divisible"):
        ConformerEncoderConfig(preset="tiny", dim=30, heads=4)
    with pytest.raises(ValidationError, match="odd"):
        ConformerEncoderConfig(preset="tiny", conv_kernel=4)
    with pytest.raises(ValidationError, match="odd"):
        ConvEncoderConfig(kernel_size=4)
