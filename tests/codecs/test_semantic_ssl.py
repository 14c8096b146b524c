"""HuBERT / WavLM semantic sources loaded from local weight files (tiny random-init models)."""

import pytest
import torch
import torchaudio
from safetensors.torch import save_file

from tokensep_codecs.hcodec import HCodec, HCodecConfig
from tokensep_codecs.training import CodecTrainingTask
from tokensep_core.errors import CheckpointError
from tokensep_core.testing import check_codec

COMMON = dict(
    extractor_mode="group_norm",
    extractor_conv_layer_config=[[16, 10, 5], [16, 3, 2], [16, 2, 2]],
    extractor_conv_bias=False,
    encoder_embed_dim=24,
    encoder_projection_dropout=0.1,
    encoder_pos_conv_kernel=8,
    encoder_pos_conv_groups=4,
    encoder_num_layers=2,
    encoder_num_heads=2,
    encoder_attention_dropout=0.1,
    encoder_ff_interm_features=48,
    encoder_ff_interm_dropout=0.1,
    encoder_dropout=0.1,
    encoder_layer_norm_first=False,
    encoder_layer_drop=0.0,
    aux_num_out=None,
)
WAVLM = {**COMMON, "encoder_num_buckets": 16, "encoder_max_distance": 32}


def _hcodec(name, weights, architecture):
    torch.manual_seed(0)
    source = {"name": name, "params": {"weights": str(weights), "architecture": architecture}}
    return HCodec(HCodecConfig(preset="tiny", semantic_source=source))


def test_hubert_from_local_safetensors(tmp_path, tone):
    torch.manual_seed(3)
    reference = torchaudio.models.wav2vec2_model(**COMMON).eval()
    path = tmp_path / "hubert.safetensors"
    save_file({k: v.contiguous() for k, v in reference.state_dict().items()}, str(path))

    codec = _hcodec("hubert", path, COMMON)
    check_codec(codec)
    wav = tone(0.5, 16000)
    with torch.no_grad():
        hidden, _ = reference.extract_features(wav[:, 0])
        expected = torch.nn.functional.adaptive_avg_pool1d(torch.stack(hidden).mean(0).transpose(1, 2), 50)
        torch.testing.assert_close(codec.semantic_source(wav, 50), expected)

    # frozen: no trainable SSL parameters, and it stays in eval mode while the codec trains
    codec.train()
    assert not codec.semantic_source.model.training
    trainable = {id(p) for group in CodecTrainingTask(codec).optimizer_groups().values() for p in group}
    assert not any(id(p) in trainable for p in codec.semantic_source.parameters())
    losses = codec(wav).losses
    assert torch.isfinite(losses["semantic"])


def test_wavlm_from_local_torch_file(tmp_path):
    torch.manual_seed(4)
    reference = torchaudio.models.wavlm_model(**WAVLM)
    path = tmp_path / "wavlm.pt"
    torch.save(reference.state_dict(), path)
    codec = _hcodec("wavlm", path, WAVLM)
    assert codec.semantic_source.dim == 24
    check_codec(codec, seconds=0.3)


def test_missing_or_mismatched_weights_are_checkpoint_errors(tmp_path):
    with pytest.raises(CheckpointError, match="not found"):
        _hcodec("hubert", tmp_path / "absent.safetensors", COMMON)
    path = tmp_path / "other.safetensors"
    save_file(
        {k: v.contiguous() for k, v in torchaudio.models.wav2vec2_model(**{**COMMON, "encoder_embed_dim": 32}).state_dict().items()},
        str(path),
    )
    with pytest.raises(CheckpointError, match="does not match"):
        _hcodec("hubert", path, COMMON)
