"""The codec oracle: true stems through a codec, weights from a codec checkpoint."""

import pytest
import torch

from tokensep_core.errors import CheckpointError, ConfigError
from tokensep_core.interfaces import Song
from tokensep_core.plugins import load_registry
from tokensep_core.separation.baselines import CodecOracle
from tokensep_core.training.checkpoint import write_checkpoint

STEMS = ("vocals", "drums", "bass", "other")


def _song(sample_rate: int = 16000, samples: int = 6400) -> Song:
    gen = torch.Generator().manual_seed(0)
    stems = {name: 0.1 * torch.randn(2, samples, generator=gen) for name in STEMS}
    return Song("s", sample_rate, sum(stems.values()), stems)


def _oracle(**params) -> CodecOracle:
    return load_registry().build("separator", {"name": "codec_oracle", "params": {"device": "cpu", **params}})


def test_each_stem_is_the_codec_round_trip_of_its_reference_per_channel() -> None:
    song = _song()
    oracle = _oracle(segment_seconds=1.0)  # one segment holds the whole song: no cross-fades
    out = oracle.separate_song(song)
    assert list(out) == list(STEMS)
    codec = oracle.codec
    with torch.no_grad():
        expected = codec.decode(codec.encode(song.stems["drums"].unsqueeze(1)))[..., : song.mixture.shape[-1]]
    assert out["drums"].shape == song.mixture.shape
    torch.testing.assert_close(out["drums"], expected.squeeze(1))
    assert not torch.allclose(out["drums"], song.stems["drums"])  # an untrained codec is lossy


def test_songs_at_other_rates_come_back_at_their_rate_and_length() -> None:
    song = _song(sample_rate=22050, samples=5000)
    out = _oracle(segment_seconds=0.1, codec={"name": "debug", "params": {"channels": 2}}).separate_song(song)
    assert all(wav.shape == (2, 5000) for wav in out.values())


def test_weights_come_from_a_codec_checkpoint(tmp_path) -> None:
    registry = load_registry()
    torch.manual_seed(123)
    trained = registry.build("codec", "debug")
    step_dir = write_checkpoint(tmp_path / "checkpoints", 5, {"codec": trained}, {"config": {}}, {})
    oracle = _oracle(checkpoint=str(tmp_path))  # a run directory: its latest checkpoint
    for key, value in trained.state_dict().items():
        torch.testing.assert_close(oracle.codec.state_dict()[key], value)
    (step_dir / "codec.safetensors").write_bytes(b"broken")
    with pytest.raises(CheckpointError, match="codec.safetensors"):
        _oracle(checkpoint=str(step_dir))


def test_codec_oracle_needs_references() -> None:
    song = _song()
    with pytest.raises(ConfigError, match="reference stems"):
        _oracle().separate(song.mixture, song.sample_rate)
    del song.stems["other"]
    with pytest.raises(ConfigError, match="codec_oracle.*no reference stem 'other'"):
        _oracle().separate_song(song)
