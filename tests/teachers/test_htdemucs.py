"""The HTDemucs separator: random init, weights saved and reloaded, chunked separation."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

pytest.importorskip("tokensep_teachers", reason="plugin not installed: pip install -e plugins/tokensep-teachers")

from tokensep_core.errors import CheckpointError
from tokensep_core.plugins import load_registry

from .tiny import TINY_HTDEMUCS, synthetic_mixture


def test_registered_and_separates_with_reloaded_weights(tmp_path: Path) -> None:
    registry = load_registry()
    trained = registry.build("separator", {"name": "htdemucs", "params": {**TINY_HTDEMUCS, "seed": 3}})
    assert not trained.network.training
    path = tmp_path / "htdemucs.safetensors"
    save_file(trained.network.state_dict(), path)

    reloaded = registry.build("separator", {"name": "htdemucs", "params": {**TINY_HTDEMUCS, "checkpoint": str(path)}})
    fresh = registry.build("separator", {"name": "htdemucs", "params": TINY_HTDEMUCS})
    for name, tensor in trained.network.state_dict().items():
        assert torch.equal(reloaded.network.state_dict()[name], tensor), name
    assert not torch.equal(
        fresh.network.state_dict()["freq_emb.embedding.weight"], trained.network.state_dict()["freq_emb.embedding.weight"]
    )

    mixture = synthetic_mixture(1.2)
    out = reloaded.separate(mixture, 44100)
    assert list(out) == ["vocals", "drums", "bass", "other"]
    assert all(stem.shape == mixture.shape and torch.isfinite(stem).all() and stem.abs().max() > 0 for stem in out.values())
    # the trained network on the first segment alone matches the chunked result where no other
    # segment overlaps it (its first 0.375 s)
    with torch.inference_mode():
        direct = trained.network(mixture[:, :22050].unsqueeze(0))[0]
    torch.testing.assert_close(out["drums"][:, :16000], direct[1, :, :16000], atol=1e-5, rtol=1e-4)


def test_resamples_and_keeps_the_input_channels() -> None:
    separator = load_registry().build("separator", {"name": "htdemucs", "params": {**TINY_HTDEMUCS, "stems": ["vocals", "accompaniment"]}})
    mono = synthetic_mixture(1.3, sample_rate=16000, channels=1)
    out = separator.separate(mono, 16000)
    assert set(out) == {"vocals", "accompaniment"}
    assert all(stem.shape == (1, mono.shape[-1]) for stem in out.values())


def test_checkpoint_of_another_architecture_is_refused(tmp_path: Path) -> None:
    small = load_registry().build("separator", {"name": "htdemucs", "params": TINY_HTDEMUCS})
    path = tmp_path / "small.pt"
    torch.save(small.network.state_dict(), path)
    with pytest.raises(CheckpointError, match=r"small\.pt: does not match"):
        load_registry().build(
            "separator", {"name": "htdemucs", "params": {**TINY_HTDEMUCS, "channels_hidden": 16, "checkpoint": str(path)}}
        )


def test_passes_the_separator_conformance_checks() -> None:
    from tokensep_core.testing.conformance import check_registered

    check_registered("separator", "htdemucs", TINY_HTDEMUCS)
