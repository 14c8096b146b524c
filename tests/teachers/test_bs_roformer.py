"""The BS-RoFormer separator: chunked separation keeps shapes at any rate and length; weights reload."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

pytest.importorskip("tokensep_teachers", reason="plugin not installed: pip install -e plugins/tokensep-teachers")

from tokensep_core.plugins import load_registry

from .tiny import TINY_BS_ROFORMER, synthetic_mixture


@pytest.mark.slow
def test_separates_any_length_with_correct_shapes(tmp_path: Path) -> None:
    registry = load_registry()
    separator = registry.build("separator", {"name": "bs_roformer", "params": {**TINY_BS_ROFORMER, "batch_size": 2}})
    mixture = synthetic_mixture(1.1, sample_rate=48000)
    out = separator.separate(mixture, 48000)
    assert list(out) == ["vocals", "drums", "bass", "other"]
    assert all(stem.shape == mixture.shape and torch.isfinite(stem).all() for stem in out.values())

    path = tmp_path / "bsr.safetensors"
    save_file(separator.network.state_dict(), path)
    reloaded = registry.build("separator", {"name": "bs_roformer", "params": {**TINY_BS_ROFORMER, "seed": 9, "checkpoint": str(path)}})
    for name, tensor in separator.network.state_dict().items():
        assert torch.equal(reloaded.network.state_dict()[name], tensor), name


def test_passes_the_separator_conformance_checks() -> None:
    from tokensep_core.testing.conformance import check_registered

    check_registered("separator", "bs_roformer", TINY_BS_ROFORMER)
