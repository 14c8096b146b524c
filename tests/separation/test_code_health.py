"""Separator training checks its codec's codes first: a trained codec whose codebooks are
degenerate (one id for every frame) is refused, naming the checkpoint and the codebooks."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tokensep_codecs.debug import DebugCodec
from tokensep_core.errors import ConfigError
from tokensep_core.plugins import load_registry
from tokensep_core.registry import Provider
from tokensep_core.separation.training import build_separator_training
from tokensep_core.training.checkpoint import write_checkpoint

DATA = {"name": "synthetic", "params": {"songs": 2, "seconds": 1.0, "sample_rate": 16000, "seed": 3}}


def _collapse(codec: DebugCodec) -> DebugCodec:
    """Every code of every codebook points the same way: each frame gets id 0."""
    with torch.no_grad():
        for vq in codec.quantizer.quantizers:
            vq.codebook.weight.fill_(1.0)
    return codec


class CollapsedCodec(DebugCodec):
    """An untrained debug codec whose codebooks are collapsed from the start."""

    def __init__(self, config) -> None:
        super().__init__(config)
        _collapse(self)


def _sections(checkpoint: Path | None, codec: str = "debug", **loss) -> dict:
    model = {
        "codec": {"name": codec},
        "codec_checkpoint": checkpoint and str(checkpoint),
        "encoder": {"name": "debug"},
        "lm": {"name": "debug"},
    }
    return {"model": model, "data": DATA, "augment": {"seconds": 0.25, "examples_per_epoch": 4}, "loss": loss}


@pytest.fixture
def collapsed_run(tmp_path: Path) -> Path:
    torch.manual_seed(0)
    write_checkpoint(tmp_path / "checkpoints", 1, {"codec": _collapse(DebugCodec(DebugCodec.Config()))}, {"config": {}}, {})
    return tmp_path


def test_a_trained_codec_with_degenerate_codes_is_refused_naming_checkpoint_and_codebooks(collapsed_run, capsys) -> None:
    registry = load_registry(autoload=False)
    with pytest.raises(ConfigError) as err:
        build_separator_training(_sections(collapsed_run), "sep.yaml", registry)
    message = str(err.value)
    assert "\n" not in message and message.startswith(f"sep.yaml: codec checkpoint {collapsed_run} gives degenerate codes")
    assert "codebooks 0 (perplexity 1.00, 1 id used), 1 (perplexity 1.00, 1 id used)" in message
    assert "loss.allow_degenerate_codes: true" in message

    task, _ = build_separator_training(_sections(collapsed_run, allow_degenerate_codes=True), "sep.yaml", registry)
    assert task.config.loss.allow_degenerate_codes
    warning = capsys.readouterr().err
    assert warning.startswith("tokensep: warning: sep.yaml: codec checkpoint") and "codebooks 0 (perplexity 1.00" in warning


def test_an_untrained_codec_with_degenerate_codes_is_only_a_warning(capsys) -> None:
    registry = load_registry(autoload=False)
    registry.add("codec", "collapsed", CollapsedCodec, DebugCodec.Config, provider=Provider("tests", "0"))
    build_separator_training(_sections(None, "collapsed"), "sep.yaml", registry)
    warning = capsys.readouterr().err
    assert "untrained codec 'collapsed'" in warning and "degenerate codes" in warning and "codebooks 0 (perplexity 1.00" in warning
