"""The trainer's CPU budget: stop with a checkpoint once the training steps have used it, count it
over resumes (an older checkpoint without the count starts from 0), refuse it on a GPU."""

import hashlib
import json

import pytest
import torch
from tiny_task import NoisyRegression, TinyRegression

from tokensep_core.errors import ConfigError
from tokensep_core.training import TrainerConfig, train
from tokensep_core.training import distributed as dist_utils
from tokensep_core.training.checkpoint import list_checkpoints

# a tiny MLP step costs about a millisecond of CPU, so 0.5 CPU s ends the run long before step 100 000
BUDGET = TrainerConfig(steps=100_000, batch_size=4, log_every=100_000, checkpoint_every=0, eval_every=0, max_cpu_seconds=0.5, device="cpu")


def _state(checkpoint) -> dict:
    return json.loads((checkpoint / "state.json").read_text())


def test_cpu_budget_stops_with_a_checkpoint_and_holds_over_resumes(tmp_path) -> None:
    first = train(TinyRegression(), BUDGET, tmp_path, NoisyRegression())
    assert 1 <= first.step < BUDGET.steps
    assert first.checkpoint is not None and first.checkpoint == list_checkpoints(tmp_path / "checkpoints")[-1]
    spent = _state(first.checkpoint)["train_cpu_seconds"]
    assert _state(first.checkpoint)["step"] == first.step and spent >= BUDGET.max_cpu_seconds
    assert f"CPU budget of 0.5 CPU s used up at step {first.step}" in (tmp_path / "train.log").read_text()

    again = train(TinyRegression(), BUDGET, tmp_path, NoisyRegression())
    assert again.step == first.step  # the budget is spent over resumes: nothing more is trained

    unlimited = BUDGET.model_copy(update={"max_cpu_seconds": None, "steps": first.step + 2})
    more = train(TinyRegression(), unlimited, tmp_path, NoisyRegression())
    assert more.step == first.step + 2 and _state(more.checkpoint)["train_cpu_seconds"] > spent  # added to, not restarted


def test_a_checkpoint_without_the_cpu_count_resumes_from_zero(tmp_path) -> None:
    first = train(TinyRegression(), BUDGET, tmp_path, NoisyRegression())
    state = _state(first.checkpoint)
    del state["train_cpu_seconds"]  # as written before the CPU budget existed
    (first.checkpoint / "state.json").write_text(json.dumps(state))
    checksums = json.loads((first.checkpoint / "checksums.json").read_text())
    checksums["sha256"]["state.json"] = hashlib.sha256((first.checkpoint / "state.json").read_bytes()).hexdigest()
    (first.checkpoint / "checksums.json").write_text(json.dumps(checksums))
    assert train(TinyRegression(), BUDGET, tmp_path, NoisyRegression()).step > first.step


def test_cpu_budget_is_refused_on_a_gpu(tmp_path, monkeypatch) -> None:
    monkeypatch.setattr(dist_utils, "setup", lambda name: dist_utils.DistContext(0, 1, torch.device("cuda"), owns_group=False))
    with pytest.raises(ConfigError, match=r"^trainer.max_cpu_seconds: CPU time is not the training compute on cuda; .*max_minutes"):
        train(TinyRegression(), BUDGET, tmp_path, NoisyRegression())
    assert not (tmp_path / "checkpoints").exists()


def test_a_step_budget_replays_a_cpu_budgeted_run_exactly(tmp_path) -> None:
    """stop_at_step = the step a CPU budget stopped at: the same steps, schedule and batches, so the
    same weights, with no CPU budget (on any machine)."""
    first = train(TinyRegression(), BUDGET, tmp_path / "cpu", NoisyRegression())
    replay_config = BUDGET.model_copy(update={"max_cpu_seconds": None, "stop_at_step": first.step})
    replay = train(TinyRegression(), replay_config, tmp_path / "replay", NoisyRegression())
    assert replay.step == first.step < BUDGET.steps
    assert f"step budget of {first.step} steps used up at step {first.step}" in (tmp_path / "replay" / "train.log").read_text()
    weights = [sorted(run.checkpoint.glob("*.safetensors")) for run in (first, replay)]
    assert [w.name for w in weights[0]] == [w.name for w in weights[1]] == ["head.safetensors", "trunk.safetensors"]
    assert all(a.read_bytes() == b.read_bytes() for a, b in zip(*weights, strict=True))
