"""Checkpoint directories: layout, round trip, checksums, pruning, partial directories."""

import json
import shutil

import pytest
import torch
from tiny_task import NoisyRegression, TinyRegression

from tokensep_core.errors import CheckpointError
from tokensep_core.training import TrainerConfig, train
from tokensep_core.training.checkpoint import list_checkpoints, load_weights, read_torch, resolve_checkpoint, verify_checkpoint

CONFIG = TrainerConfig(steps=6, lr=1e-2, batch_size=8, log_every=1, checkpoint_every=2, keep_last=2, seed=1)


@pytest.fixture(scope="module")
def trained(tmp_path_factory):
    run_dir = tmp_path_factory.mktemp("run")
    task = TinyRegression()
    result = train(task, CONFIG, run_dir, NoisyRegression())
    return run_dir, task, result


def test_layout_and_keep_last_pruning(trained):
    run_dir, _, result = trained
    assert [p.name for p in list_checkpoints(run_dir / "checkpoints")] == ["step_00000004", "step_00000006"]
    assert result.checkpoint == run_dir / "checkpoints" / "step_00000006"
    names = {p.name for p in result.checkpoint.iterdir()}
    assert names == {"trunk.safetensors", "head.safetensors", "config.json", "state.json", "optimizer.pt", "rng.pt", "checksums.json"}
    config = json.loads((result.checkpoint / "config.json").read_text())
    assert config["task"] == {"hidden": 16, "dropout": 0.1, "seed": 0}
    assert config["trainer"] == CONFIG.model_dump(mode="json")
    state = json.loads((result.checkpoint / "state.json").read_text())
    assert state["step"] == 6 and state["world_size"] == 1 and state["data"] == {"epoch": 0, "batch": 6}
    assert set(verify_checkpoint(result.checkpoint)) == names - {"checksums.json"}


def test_weights_and_optimizer_round_trip(trained):
    run_dir, task, result = trained
    fresh = TinyRegression(seed=42)
    load_weights(resolve_checkpoint(run_dir), fresh.modules())
    for a, b in zip([*task.trunk.parameters(), *task.head.parameters()], [*fresh.trunk.parameters(), *fresh.head.parameters()]):
        assert torch.equal(a, b)
    optim = read_torch(result.checkpoint, "optimizer")
    assert set(optim["optimizers"]) == {"trunk", "head"}
    assert int(optim["optimizers"]["head"]["state"][0]["step"]) == 6
    assert optim["schedulers"]["trunk"]["last_epoch"] == 6
    rng_states = read_torch(result.checkpoint, "rng")["ranks"]
    assert len(rng_states) == 1 and rng_states[0]["torch"].dtype == torch.uint8


def test_latest_resolution_ignores_partial_and_incomplete_directories(trained, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(trained[0], run_dir)
    partial = run_dir / "checkpoints" / ".partial-step_00000099-123"
    partial.mkdir()
    (partial / "trunk.safetensors").write_bytes(b"half")
    (run_dir / "checkpoints" / "step_00000050").mkdir()  # a complete checkpoint always has checksums.json
    for spelling in (run_dir, run_dir / "checkpoints", run_dir / "checkpoints" / "latest"):
        assert resolve_checkpoint(spelling).name == "step_00000006"
    with pytest.raises(CheckpointError, match="step_00000050: not a complete checkpoint"):
        resolve_checkpoint(run_dir / "checkpoints" / "step_00000050")
    result = train(TinyRegression(), CONFIG.model_copy(update={"steps": 8}), run_dir, NoisyRegression())
    assert result.step == 8 and not partial.exists()  # resumed from step 6 and swept the leftover


@pytest.mark.parametrize("victim", ["head.safetensors", "optimizer.pt", "state.json"])
def test_corrupted_file_is_a_one_line_error_naming_it(trained, tmp_path, victim):
    run_dir = tmp_path / "run"
    shutil.copytree(trained[0], run_dir)
    file = run_dir / "checkpoints" / "step_00000006" / victim
    data = file.read_bytes()
    file.write_bytes(data[: len(data) // 2])  # truncated
    with pytest.raises(CheckpointError) as err:
        verify_checkpoint(file.parent)
    assert str(file) in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(CheckpointError, match=victim):  # resuming refuses it too
        train(TinyRegression(), CONFIG.model_copy(update={"steps": 8}), run_dir, NoisyRegression())


def test_resuming_with_a_different_task_config_is_refused(trained, tmp_path):
    run_dir = tmp_path / "run"
    shutil.copytree(trained[0], run_dir)
    with pytest.raises(CheckpointError, match=r"task config differs .* 'task.hidden'"):
        train(TinyRegression(hidden=8), CONFIG.model_copy(update={"steps": 8}), run_dir, NoisyRegression())


def test_mismatched_weights_name_the_file(trained):
    with pytest.raises(CheckpointError, match=r"head.safetensors: .*'head'"):
        load_weights(trained[2].checkpoint, {"head": torch.nn.Linear(3, 1)})


def test_resume_accepts_config_fields_added_since_the_checkpoint() -> None:
    from tokensep_core.training.trainer import _first_difference

    saved = {"model": {"width": 8}, "inference": {"seed": 0}}
    assert _first_difference(saved, {"model": {"width": 8}, "inference": {"seed": 0, "dtype": "float32"}}) is None
    assert _first_difference(saved, {"model": {"width": 16}, "inference": {"seed": 0}}) == "model.width"
    assert _first_difference(saved, {"model": {}, "inference": {"seed": 0}}) == "model.width"
