"""The trainer's held-out evaluation hook: when it runs, in which mode, where its scalars go, and
that it changes neither training nor resume."""

import csv
import shutil

import pytest
import torch
from tiny_task import NoisyRegression, TinyRegression, clean_mse

from tokensep_core.training import EvalState, TrainerConfig, train

HELD_OUT = NoisyRegression(size=16)


class EvaluatedRegression(TinyRegression):
    """The tiny task with a held-out score; it draws random numbers, as a masked-LM evaluation would."""

    def __init__(self, **kwargs) -> None:
        super().__init__(**kwargs)
        self.seen: list[tuple[int, bool, bool]] = []  # (step, any module training, grad enabled)

    def evaluate(self, state: EvalState) -> dict[str, float]:
        training = any(m.training for module in self.modules().values() for m in module.modules())
        self.seen.append((state.step, training, torch.is_grad_enabled()))
        torch.randn(100)
        return {"clean_mse": clean_mse(self, HELD_OUT), "noise": float(torch.rand(()))}


def read_rows(run_dir):
    with (run_dir / "metrics.csv").open() as f:
        return [{k: (float(v) if v else None) for k, v in row.items()} for row in csv.DictReader(f)]


def config(**overrides):
    base = dict(steps=10, lr=1e-2, batch_size=4, log_every=2, eval_every=3, checkpoint_every=0, seed=3)
    return TrainerConfig(**{**base, **overrides})


def test_evaluation_runs_every_eval_every_steps_and_last_in_eval_mode_without_grad(tmp_path):
    task = EvaluatedRegression()
    result = train(task, config(), tmp_path, NoisyRegression(24))
    assert task.seen == [(3, False, False), (6, False, False), (9, False, False), (10, False, False)]
    assert task.trunk.training and task.head.training  # train mode came back
    rows = {int(r["step"]): r for r in read_rows(tmp_path)}
    assert sorted(rows) == [2, 3, 4, 6, 8, 9, 10]  # log steps, plus eval-only rows at 3 and 9
    assert rows[3]["eval/clean_mse"] is not None and rows[3]["trunk/mse"] is None
    assert rows[4]["eval/clean_mse"] is None and rows[6]["trunk/mse"] is not None and rows[6]["eval/clean_mse"] is not None
    assert rows[10]["eval/clean_mse"] == pytest.approx(clean_mse(task, HELD_OUT), rel=1e-6)
    assert result.metrics["eval/clean_mse"] == rows[10]["eval/clean_mse"]
    assert rows[10]["eval/clean_mse"] < rows[3]["eval/clean_mse"]  # it measures the training


def test_eval_every_zero_and_the_default_no_evaluation_log_nothing(tmp_path):
    off = EvaluatedRegression()
    train(off, config(eval_every=0), tmp_path / "off", NoisyRegression(24))
    assert off.seen == []
    train(TinyRegression(), config(), tmp_path / "plain", NoisyRegression(24))
    assert not any(k.startswith("eval/") for k in read_rows(tmp_path / "plain")[0])


def test_evaluation_leaves_training_and_resume_bit_for_bit(tmp_path):
    plain = TinyRegression()
    train(plain, config(eval_every=0), tmp_path / "plain", NoisyRegression(24))
    whole = EvaluatedRegression()
    train(whole, config(checkpoint_every=5, keep_last=5), tmp_path / "a", NoisyRegression(24))
    for a, b in zip([*plain.trunk.parameters(), *plain.head.parameters()], [*whole.trunk.parameters(), *whole.head.parameters()]):
        assert torch.equal(a, b)  # dropout and data draws did not see the evaluation's random numbers
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    shutil.rmtree(tmp_path / "b" / "checkpoints" / "step_00000010")
    resumed = EvaluatedRegression(seed=99)
    resumed.seed = 0
    train(resumed, config(checkpoint_every=5, keep_last=5), tmp_path / "b", NoisyRegression(24))
    assert [s for s, *_ in resumed.seen] == [6, 9, 10]
    reference, rows = read_rows(tmp_path / "a"), read_rows(tmp_path / "b")
    assert [r["step"] for r in rows] == [r["step"] for r in reference]
    for mine, theirs in zip(rows, reference):
        assert (mine["eval/clean_mse"], mine["eval/noise"]) == (theirs["eval/clean_mse"], theirs["eval/noise"])
