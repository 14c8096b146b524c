"""The trainer's time budget: stop with a checkpoint, count time over resumes, continue when raised."""

import json

from tiny_task import NoisyRegression, TinyRegression

from tokensep_core.training import TrainerConfig, train
from tokensep_core.training.checkpoint import list_checkpoints

# every step sleeps 2 x 0.05 s (two groups), so a 0.15 s budget ends the run long before step 50
BUDGET = TrainerConfig(steps=50, batch_size=4, log_every=100, checkpoint_every=0, max_minutes=0.15 / 60, device="cpu")


def test_time_budget_stops_with_a_checkpoint_and_holds_over_resumes(tmp_path) -> None:
    first = train(TinyRegression(sleep=0.05), BUDGET, tmp_path, NoisyRegression())
    assert 1 <= first.step < BUDGET.steps
    assert first.checkpoint is not None and first.checkpoint == list_checkpoints(tmp_path / "checkpoints")[-1]
    state = json.loads((first.checkpoint / "state.json").read_text())
    assert state["step"] == first.step and state["train_seconds"] >= 0.15
    assert "time budget" in (tmp_path / "train.log").read_text()
    assert (tmp_path / "metrics.csv").read_text().splitlines()[-1].startswith(f"{first.step},")

    again = train(TinyRegression(sleep=0.05), BUDGET, tmp_path, NoisyRegression())
    assert again.step == first.step  # the budget is spent: nothing more is trained

    unlimited = BUDGET.model_copy(update={"max_minutes": None, "steps": first.step + 2})
    assert train(TinyRegression(), unlimited, tmp_path, NoisyRegression()).step == first.step + 2
