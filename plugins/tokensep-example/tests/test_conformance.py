"""The example plugin's components pass tokensep's conformance suite."""

import pytest
import torch

from tokensep_core.plugins import load_registry
from tokensep_core.testing import check_codec, check_metric, check_registered


@pytest.mark.parametrize(("kind", "name"), [("codec", "mulaw"), ("encoder", "stft"), ("metric", "envelope_distance")])
def test_conformance(kind: str, name: str) -> None:
    check_registered(kind, name)


def test_registered_by_this_distribution() -> None:
    registry = load_registry()
    for kind, name in (("codec", "mulaw"), ("encoder", "stft"), ("metric", "envelope_distance")):
        assert registry.get(kind, name).provider.name == "tokensep-example"


def test_mulaw_round_trip_is_close() -> None:
    codec = load_registry().build("codec", "mulaw")
    wav = torch.linspace(-0.9, 0.9, 800).reshape(1, 1, -1)
    assert (codec.decode(codec.encode(wav)) - wav).abs().max() < 0.02


def test_a_stereo_mulaw_built_with_params_conforms() -> None:
    stereo = load_registry().build("codec", "mulaw", {"channels": 2})
    assert (stereo.channels, stereo.num_codebooks) == (2, 2)
    check_codec(stereo)


def test_envelope_distance_measures_loudness_and_takes_its_frame_length_as_a_param() -> None:
    registry = load_registry()
    t = torch.arange(8000) / 8000
    reference = torch.sin(2 * torch.pi * 440 * t).reshape(1, -1)
    metric = registry.build("metric", "envelope_distance")
    assert metric(reference, reference.clone(), 8000) == 0.0
    assert metric(reference, 0.5 * reference, 8000) == pytest.approx(20 * torch.log10(torch.tensor(2.0)).item(), abs=1e-3)
    check_metric(registry.build("metric", "envelope_distance", {"frame_seconds": 0.1}), sample_rate=8000)
    fading = reference * t  # a fade-in: short frames see more of the envelope's detail
    coarse, fine = (registry.build("metric", "envelope_distance", {"frame_seconds": s})(reference, fading, 8000) for s in (0.5, 0.01))
    assert fine > coarse
