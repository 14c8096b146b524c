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


def test_with_a_mixture_fit_the_coded_stems_split_the_mixture() -> None:
    """mask: the mixture's STFT split by the coded stems' soft masks, exactly the generative
    separator's last stage on perfect tokens; the stems sum to the mixture."""
    from tokensep_core.separation.mixture_fit import mask_mixture

    song = _song()
    torch.manual_seed(0)  # both oracles build the same untrained codec
    coded = _oracle(segment_seconds=1.0).separate_song(song)
    torch.manual_seed(0)
    fitted = _oracle(segment_seconds=1.0, mixture_consistency="mask").separate_song(song)
    expected = mask_mixture(song.mixture.unsqueeze(0), torch.stack(list(coded.values())).unsqueeze(0), song.sample_rate, 8000.0)[0]
    for i, stem in enumerate(STEMS):
        torch.testing.assert_close(fitted[stem], expected[i])
    torch.testing.assert_close(sum(fitted.values()), song.mixture, atol=1e-5, rtol=0)


def test_mid_codes_each_stems_channel_mean_once() -> None:
    song = _song()
    coded = _oracle(segment_seconds=1.0, mixture_consistency="mask", stereo="mid")
    seen: list[torch.Size] = []
    reconstruct = coded.reconstruct
    coded.reconstruct = lambda wav, rate, stem="": seen.append(wav.shape) or reconstruct(wav, rate, stem)  # type: ignore[method-assign]
    out = coded.separate_song(song)
    assert seen == [torch.Size([1, song.mixture.shape[-1]])] * len(STEMS)
    torch.testing.assert_close(sum(out.values()), song.mixture, atol=1e-5, rtol=0)
    assert not torch.allclose(out["drums"][0], out["drums"][1])  # each channel of the mixture split on its own


def test_the_decoder_oracle_runs_a_trained_mixture_decoder(tmp_path) -> None:
    from tokensep_core.separation.decoder_checkpoint import DECODER_MODULE

    registry = load_registry()
    torch.manual_seed(0)
    decoder = registry.build("mixture_decoder", {"name": "spectral_mask", "params": {"width": 4, "depth": 1}})
    torch.nn.init.normal_(decoder.out.weight)  # trained away from the soft masks
    config = {"task": {"decoder": {"name": "spectral_mask", "params": {"width": 4, "depth": 1}}}}
    write_checkpoint(tmp_path / "checkpoints", 1, {DECODER_MODULE: decoder}, {"config": config}, {})
    song = _song()
    torch.manual_seed(1)  # both oracles build the same untrained codec
    out = _oracle(segment_seconds=1.0, mixture_consistency="decoder", mixture_decoder=str(tmp_path)).separate_song(song)
    torch.manual_seed(1)
    masked = _oracle(segment_seconds=1.0, mixture_consistency="mask").separate_song(song)
    torch.testing.assert_close(sum(out.values()), song.mixture, atol=1e-5, rtol=0)
    assert not torch.allclose(out["vocals"], masked["vocals"], atol=1e-4)


def test_decoder_settings_that_cannot_apply_are_refused() -> None:
    with pytest.raises(ConfigError, match="go together"):
        _oracle(mixture_consistency="decoder")
    with pytest.raises(ConfigError, match="go together"):
        _oracle(mixture_decoder="somewhere")
    with pytest.raises(ConfigError, match="stereo 'mid'.*needs a mixture_consistency"):
        _oracle(stereo="mid")
    with pytest.raises(CheckpointError, match="no such mixture decoder"):
        _oracle(mixture_consistency="decoder", mixture_decoder="/nonexistent/decoder")
