"""Every committed grid under benchmarks/ loads, and its generative rows build real pipelines."""

from pathlib import Path

import pytest
import torch

from tokensep_core.bench.grid import generative_rows, load_grid
from tokensep_core.plugins import load_registry
from tokensep_core.separation.pipeline import PipelineConfig, build_pipeline

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"
GRIDS = sorted(BENCHMARKS.glob("*.yaml"))


def test_the_grids_are_found() -> None:
    assert {p.name for p in GRIDS} >= {"smoke.yaml", "cpu-small.yaml", "transient.yaml", "lm-family.yaml"}


@pytest.mark.parametrize("path", GRIDS, ids=lambda p: p.stem)
def test_grid_loads_with_distinct_rows(path: Path) -> None:
    grid = load_grid(path)
    names = [name for name, _ in generative_rows(grid, str(path))]
    assert len(names) == len(set(names))


@pytest.mark.parametrize("name", ["cpu-small.yaml", "lm-family.yaml"])
def test_generative_rows_build(name: str) -> None:
    """Untrained codecs stand in for the grid's codec stage (weights do not change the shapes)."""
    path = BENCHMARKS / name
    registry = load_registry()
    built = {}
    for row, config in generative_rows(load_grid(path), str(path)):
        model = {**config["model"], "codec_checkpoint": None}
        if model["encoder"]["name"] == "frozen_codec":
            continue  # needs the stage-0 codec's weights file
        torch.manual_seed(0)
        pipeline = build_pipeline(registry, PipelineConfig.model_validate(model), f"{name}:{row}")
        built[row] = (type(pipeline.lm).__name__, pipeline.lm.config.kv_heads)
    if name == "lm-family.yaml":
        llama = ("LlamaLM", None)  # as many key/value heads as heads
        assert built == {
            "llama_sequential": llama,
            "llama_independent": llama,
            "llama_interleaved": llama,
            "llama_sequential_gqa": ("LlamaLM", 1),
            "masked": ("MaskedLM", None),
        }
    else:
        assert set(built) == {"base", "independent", "dac"}
