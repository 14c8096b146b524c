"""The example plugin's components pass tokensep's conformance suite."""

import pytest

from tokensep_core.plugins import load_registry
from tokensep_core.testing import check_registered


@pytest.mark.parametrize(("kind", "name"), [("codec", "mulaw"), ("encoder", "stft")])
def test_conformance(kind: str, name: str) -> None:
    check_registered(kind, name)


def test_registered_by_this_distribution() -> None:
    entry = load_registry().get("codec", "mulaw")
    assert entry.provider.name == "tokensep-example"


def test_mulaw_round_trip_is_close() -> None:
    import torch

    codec = load_registry().build("codec", "mulaw")
    wav = torch.linspace(-0.9, 0.9, 800).reshape(1, 1, -1)
    assert (codec.decode(codec.encode(wav)) - wav).abs().max() < 0.02
