"""``init_from`` in a separator training config starts the encoder and LM from another
separator's weights (fine-tuning, e.g. a synthetic-song model on a new corpus): the loaded weights
equal the source's, training then moves on from them, and a resumed run keeps its own weights.
A checkpoint that is missing, corrupted or of other shapes is a one-line error naming the config."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch
from safetensors.torch import load_file

from tokensep_core.errors import ConfigError
from tokensep_core.plugins import load_registry
from tokensep_core.separation.training import build_separator_training
from tokensep_core.training import TrainerConfig, train
from tokensep_core.training.checkpoint import list_checkpoints, load_weights

pytestmark = pytest.mark.usefixtures("single_thread")

DATA = {"name": "synthetic", "params": {"songs": 2, "seconds": 1.0, "sample_rate": 16000, "seed": 3}}


def _sections(init_from: Path | None = None, width: int | None = None) -> dict:
    lm = {"name": "llama", "params": {"preset": "tiny", **({"width": width} if width else {})}}
    sections = {
        "model": {"codec": {"name": "debug"}, "encoder": {"name": "debug"}, "lm": lm, "seed": 0},
        "data": DATA,
        "augment": {"seconds": 0.25, "examples_per_epoch": 8},
    }
    if init_from is not None:
        sections["init_from"] = str(init_from)
    return sections


def _train(sections: dict, run_dir: Path, steps: int, seed: int = 0) -> None:
    task, examples = build_separator_training(sections, "sep.yaml", load_registry())
    config = TrainerConfig(steps=steps, batch_size=2, lr=1e-2, warmup_steps=0, log_every=1, checkpoint_every=2, device="cpu", seed=seed)
    train(task, config, run_dir, examples)


def _weights(module: torch.nn.Module) -> dict[str, torch.Tensor]:
    return {k: v.detach().clone() for k, v in module.state_dict().items()}


@pytest.fixture(scope="module")
def source_run(tmp_path_factory) -> Path:
    """A tiny separator trained a few steps from model seed 0 (weights unlike a fresh seed-1 build)."""
    run_dir = tmp_path_factory.mktemp("source")
    _train(_sections(), run_dir, steps=3)
    return run_dir


def test_the_encoder_and_lm_start_from_the_named_checkpoint(source_run) -> None:
    fresh = _sections()
    fresh["model"]["seed"] = 1
    started = _sections(source_run)
    started["model"]["seed"] = 1
    fresh_task, _ = build_separator_training(fresh, "sep.yaml", load_registry())
    task, _ = build_separator_training(started, "sep.yaml", load_registry())
    source, _ = build_separator_training(_sections(source_run), "sep.yaml", load_registry())
    load_weights(list_checkpoints(source_run / "checkpoints")[-1], {"lm": source.pipeline.lm, "encoder": source.pipeline.encoder})
    for name in ("lm", "encoder"):
        mine, theirs = (_weights(getattr(t.pipeline, name)) for t in (task, source))
        assert mine.keys() == theirs.keys()
        assert all(torch.equal(mine[k], theirs[k]) for k in mine), name
    lm, unloaded_lm = _weights(task.pipeline.lm), _weights(fresh_task.pipeline.lm)
    assert any(not torch.equal(lm[k], unloaded_lm[k]) for k in lm), "a seed-1 build without init_from should differ"


def test_training_moves_on_from_the_loaded_weights_and_a_resume_keeps_its_own(source_run, tmp_path) -> None:
    sections = _sections(source_run)
    _train(sections, tmp_path, steps=2)
    first = list_checkpoints(tmp_path / "checkpoints")[-1]
    state = json.loads((first / "config.json").read_text())
    assert state["task"]["init_from"] == str(source_run)
    trained = load_file(str(first / "lm.safetensors"))
    source = load_file(str(list_checkpoints(source_run / "checkpoints")[-1] / "lm.safetensors"))
    assert any(not torch.equal(trained[k], source[k]) for k in trained), "two optimizer steps must move the weights"
    _train(sections, tmp_path, steps=4)  # resumes from step 2, not from init_from
    resumed = list_checkpoints(tmp_path / "checkpoints")[-1]
    assert resumed.name.endswith("4")
    log = (tmp_path / "metrics.csv").read_text().splitlines()
    assert [line.split(",")[0] for line in log[1:]] == ["1", "2", "3", "4"]


@pytest.mark.parametrize(
    "case, expected",
    [
        ("missing", "no complete checkpoint found"),
        ("corrupted", "corrupted (sha256 differs"),
        ("other_shape", "does not match module 'encoder'"),
    ],
)
def test_a_bad_init_checkpoint_is_a_one_line_error_naming_the_config(source_run, tmp_path, case, expected) -> None:
    width = None
    if case == "missing":
        init = tmp_path / "nowhere"
    else:
        init = tmp_path / "copy"
        shutil.copytree(list_checkpoints(source_run / "checkpoints")[-1], init)
        if case == "corrupted":
            with open(init / "lm.safetensors", "r+b") as f:
                f.seek(-4, 2)
                f.write(b"\x00\x01\x02\x03")
        else:
            width = 48
    with pytest.raises(ConfigError) as err:
        build_separator_training(_sections(init, width), "sep.yaml", load_registry())
    message = str(err.value)
    assert "\n" not in message and message.startswith("sep.yaml: init_from: ") and expected in message


def test_the_corpus_fine_tuning_recipe_matches_the_model_it_starts_from() -> None:
    """benchmarks/real/train/separator.yaml: its model takes the encoder and LM of the model it
    fine-tuned (shipped until 2026-11-28, kept at benchmarks/real/separators/shipped_v5_mid) as they
    are (same shapes), over that model's own codec, which the shipped model still uses."""
    import yaml

    from tokensep_core.config import validate_model
    from tokensep_core.separation.pipeline import build_pipeline
    from tokensep_core.separation.training import SeparatorTrainingConfig, _initialise

    sections = yaml.safe_load(Path("benchmarks/real/train/separator.yaml").read_text())
    sections.pop("trainer")
    config = validate_model(SeparatorTrainingConfig, sections, "separator.yaml")
    start = Path("benchmarks/real/separators/shipped_v5_mid")
    assert config.init_from == config.model.codec_checkpoint == start
    assert (start / "codec.safetensors").read_bytes() == Path("pretrained/separator-small/codec.safetensors").read_bytes()
    shipped = json.loads((start / "config.json").read_text())["task"]["model"]
    assert {k: config.model.model_dump(mode="json")[k] for k in ("encoder", "lm", "pattern", "track_order")} == {
        k: shipped[k] for k in ("encoder", "lm", "pattern", "track_order")
    }
    pipeline = build_pipeline(load_registry(), config.model, "separator.yaml")
    _initialise(pipeline, config.init_from, "separator.yaml")
    lm = load_file(start / "lm.safetensors")
    assert all(torch.equal(pipeline.lm.state_dict()[k], v.float()) for k, v in lm.items())


def test_the_remixing_recipe_differs_from_the_cached_token_one_only_in_its_data() -> None:
    """separator_remix.yaml reads the corpus stems with v5's augmentation instead of cached tokens;
    every other section (start, model, steps, schedule, seed, validation, inference) is the same."""
    import yaml

    cached = yaml.safe_load(Path("benchmarks/real/train/separator.yaml").read_text())
    remix = yaml.safe_load(Path("benchmarks/real/train/separator_remix.yaml").read_text())
    assert "tokens" in cached and "data" not in cached and "data" in remix and "tokens" not in remix
    assert remix["data"]["params"]["root"] == "runs/corpus-44k/train"
    assert remix["augment"]["remix_probability"] == 0.5
    assert {k: v for k, v in remix["augment"].items() if k in cached["augment"]} == cached["augment"]
    for section in ("init_from", "model", "validation", "loss", "inference", "trainer"):
        assert remix[section] == cached[section], section
