"""The metrics are registered and pass the metric conformance check when built from the registry."""

from __future__ import annotations

from pathlib import Path

import pytest

from tokensep_core.errors import CheckpointError
from tokensep_core.plugins import load_registry
from tokensep_core.testing.conformance import check_registered

NISQA_WEIGHTS = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "nisqa" / "nisqa.tar"
EXPECTED = {
    "si_sdr": True,
    "usdr": True,
    "csdr": True,
    "visqol": True,
    "nisqa": True,
    "dnsmos": True,
    "onset_f": True,
    "attack_error": False,
    "mel_distance": False,
}


def test_every_metric_is_registered_with_its_direction() -> None:
    registry = load_registry()
    assert set(EXPECTED) <= set(registry.names("metric"))
    for name, higher in EXPECTED.items():
        factory = registry.get("metric", name).factory
        assert factory.name == name and factory.higher_is_better is higher


@pytest.mark.parametrize("name", ["si_sdr", "usdr", "csdr", "mel_distance"])
def test_conformance(name: str) -> None:
    check_registered("metric", name)


@pytest.mark.slow
def test_conformance_visqol() -> None:
    check_registered("metric", "visqol")


# dnsmos has no conformance test: the check's signal is two pure sines, which DNSMOS (a speech
# model) rates OVRL 1.00, below the same sines under heavy noise (1.19); tests/metrics/test_dnsmos.py
# checks it on real vocals instead.


def test_conformance_nisqa() -> None:
    if not NISQA_WEIGHTS.exists():
        pytest.skip(f"NISQA weights not found at {NISQA_WEIGHTS}")
    check_registered("metric", "nisqa", {"weights": str(NISQA_WEIGHTS)})


def test_nisqa_without_weights_is_a_one_line_error() -> None:
    with pytest.raises(CheckpointError, match="params.weights is not set"):
        load_registry().build("metric", {"name": "nisqa"})
