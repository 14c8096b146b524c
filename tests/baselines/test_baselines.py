"""Silence, mixture copy and oracle separators."""

import pytest
import torch

from tokensep_core.errors import ConfigError
from tokensep_core.interfaces import Song
from tokensep_core.metrics import SISDR, USDR
from tokensep_core.separation.baselines import MixtureCopy, Oracle, Silence


def _song() -> Song:
    gen = torch.Generator().manual_seed(0)
    stems = {name: torch.randn(2, 4410, generator=gen) for name in ("vocals", "drums", "bass", "other")}
    return Song("s", 44100, sum(stems.values()), stems)


def test_mixture_copy_returns_the_mixture_for_every_stem() -> None:
    song = _song()
    out = MixtureCopy(MixtureCopy.Config()).separate_song(song)
    assert list(out) == ["vocals", "drums", "bass", "other"]
    for estimate in out.values():
        assert estimate.shape == song.mixture.shape
        assert torch.equal(estimate, song.mixture)
        assert estimate.data_ptr() != song.mixture.data_ptr()


def test_silence_is_zeros_of_the_mixture_shape_and_scores_0_db() -> None:
    song = _song()
    out = Silence(Silence.Config()).separate_song(song)
    assert list(out) == ["vocals", "drums", "bass", "other"]
    for stem, estimate in out.items():
        assert estimate.shape == song.mixture.shape and estimate.dtype == song.mixture.dtype and not estimate.any()
        reference = song.stems[stem]
        assert SISDR(SISDR.Config())(reference, estimate, 44100) == 0.0  # the floor of the SDR family
        assert USDR(USDR.Config())(reference, estimate, 44100) == 0.0


def test_oracle_returns_the_true_stems() -> None:
    song = _song()
    out = Oracle(Oracle.Config(stems=("drums", "bass"))).separate_song(song)
    assert list(out) == ["drums", "bass"]
    assert torch.equal(out["drums"], song.stems["drums"]) and torch.equal(out["bass"], song.stems["bass"])


def test_a_leaky_oracle_adds_the_rest_of_the_mixture_at_the_leak_gain() -> None:
    song = _song()
    leak = Oracle(Oracle.Config(leak=0.1)).separate_song(song)
    rest = song.mixture - song.stems["vocals"]
    assert torch.allclose(leak["vocals"], song.stems["vocals"] + 0.1 * rest)
    # the residual is the rest of the song 20 dB down: SI-SDR about 20 dB above the stem-to-rest ratio
    ratio = 10 * torch.log10(song.stems["vocals"].square().sum() / rest.square().sum())
    assert SISDR(SISDR.Config())(song.stems["vocals"], leak["vocals"], 44100) == pytest.approx(float(ratio) + 20, abs=0.5)
    full = Oracle(Oracle.Config(leak=1.0)).separate_song(song)  # leak 1 is mixture copy
    assert all(torch.allclose(wav, song.mixture, atol=1e-5) for wav in full.values())
    with pytest.raises(ValueError, match="leak"):
        Oracle.Config(leak=1.5)


def test_oracle_refuses_songs_without_references() -> None:
    oracle = Oracle(Oracle.Config())
    song = _song()
    with pytest.raises(ConfigError, match="reference stems"):
        oracle.separate(song.mixture, 44100)
    del song.stems["bass"]
    with pytest.raises(ConfigError, match="no reference stem 'bass'"):
        oracle.separate_song(song)


def test_registered_as_builtin_separators() -> None:
    from tokensep_core.plugins import load_registry

    registry = load_registry(autoload=False)
    copy = registry.build("separator", {"name": "mixture_copy", "params": {"stems": ["vocals", "accompaniment"]}})
    assert copy.stems == ("vocals", "accompaniment")
    assert isinstance(registry.build("separator", "oracle"), Oracle)
    assert isinstance(registry.build("separator", "silence"), Silence)


@pytest.mark.parametrize("name", ["mixture_copy", "silence"])
def test_passes_the_separator_conformance_checks(name: str) -> None:
    from tokensep_core.testing.conformance import check_registered

    check_registered("separator", name)
