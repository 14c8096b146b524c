"""The shared trainer on a tiny real task: learning, group order, logging, accumulation,
precision and the train CLI."""

import csv
import json
import shutil

import pytest
import torch
from tiny_task import NoisyRegression, NoisyRegressionStream, TinyRegression, clean_mse

from tokensep_core.cli import train_cmd
from tokensep_core.cli.builtin_commands import COMMANDS
from tokensep_core.cli.main import build_parser
from tokensep_core.errors import ConfigError
from tokensep_core.training import TrainerConfig, TrainingError, train
from tokensep_core.training.checkpoint import load_weights
from tokensep_core.training.spec import TrainingTaskSpec


def read_metrics(run_dir):
    with (run_dir / "metrics.csv").open() as f:
        return [{k: (float(v) if v else None) for k, v in row.items()} for row in csv.DictReader(f)]


def config(**overrides):
    base = dict(steps=40, lr=1e-2, batch_size=8, warmup_steps=4, log_every=1, checkpoint_every=0, seed=3)
    return TrainerConfig(**{**base, **overrides})


def test_loss_decreases_and_every_term_is_logged(tmp_path):
    task, data = TinyRegression(), NoisyRegression()
    before = clean_mse(task, data)
    result = train(task, config(), tmp_path, data)
    assert clean_mse(task, data) < 0.2 * before
    rows = read_metrics(tmp_path)
    assert [r["step"] for r in rows] == list(range(1, 41)) and result.step == 40
    first = sum(r["head/mse"] for r in rows[:5]) / 5
    last = sum(r["head/mse"] for r in rows[-5:]) / 5
    assert last < 0.5 * first
    for column in ("trunk/mse", "trunk/grad_norm", "trunk/lr", "head/l2", "head/total", "head/lr", "step_time"):
        assert column in rows[0]
    assert any(p.name.startswith("events.out.tfevents") for p in (tmp_path / "tensorboard").iterdir())
    saved = json.loads((tmp_path / "config.json").read_text())
    assert saved["task"]["hidden"] == 16 and saved["trainer"]["steps"] == 40


def test_logged_lr_follows_warmup_and_cosine_decay(tmp_path):
    train(
        TinyRegression(),
        config(steps=12, lr={"trunk": 1e-2, "head": 2e-2}, min_lr={"trunk": 1e-3, "head": 0.0}),
        tmp_path,
        NoisyRegression(),
    )
    rows = read_metrics(tmp_path)
    assert [r["trunk/lr"] for r in rows[:4]] == pytest.approx([2.5e-3, 5e-3, 7.5e-3, 1e-2])
    assert rows[3]["head/lr"] == pytest.approx(2e-2)
    assert rows[-1]["trunk/lr"] == pytest.approx(1e-3) and rows[-1]["head/lr"] == pytest.approx(0.0, abs=1e-12)


def test_groups_step_in_order_within_a_step(tmp_path):
    task = TinyRegression(record=True)
    train(task, config(steps=3), tmp_path, NoisyRegression())
    assert [group for group, _ in task.calls] == ["trunk", "head"] * 3
    # the head's losses see the trunk already updated by this step's trunk optimizer
    for (_, before), (_, after) in zip(task.calls[0::2], task.calls[1::2]):
        assert before != after


def test_grad_accumulation_matches_one_bigger_batch(tmp_path):
    big, accumulated = TinyRegression(dropout=0.0), TinyRegression(dropout=0.0)
    train(big, config(steps=8, batch_size=8), tmp_path / "big", NoisyRegression())
    train(accumulated, config(steps=8, batch_size=4, grad_accumulation=2), tmp_path / "accum", NoisyRegression())
    for name in ("trunk", "head"):
        for a, b in zip(big.modules()[name].parameters(), accumulated.modules()[name].parameters()):
            torch.testing.assert_close(a, b, atol=1e-6, rtol=1e-5)
    rows_big, rows_acc = read_metrics(tmp_path / "big"), read_metrics(tmp_path / "accum")
    assert [r["head/mse"] for r in rows_big] == pytest.approx([r["head/mse"] for r in rows_acc], abs=1e-6)


@pytest.mark.parametrize(
    "dataset, workers", [(NoisyRegression, 0), (NoisyRegression, 2), (NoisyRegressionStream, 0)], ids=["map", "map-2-workers", "iterable"]
)
def test_resume_continues_bit_for_bit(tmp_path, dataset, workers):
    # 24 items / batch 4 = 6 batches per epoch: the resumed half crosses an epoch boundary
    cfg = config(steps=10, batch_size=4, checkpoint_every=5, keep_last=5, num_workers=workers)
    whole = TinyRegression()
    train(whole, cfg, tmp_path / "a", dataset(24))
    reference = read_metrics(tmp_path / "a")
    # rewind a copy to step 5, as if the run had been killed before its final checkpoint
    shutil.copytree(tmp_path / "a", tmp_path / "b")
    shutil.rmtree(tmp_path / "b" / "checkpoints" / "step_00000010")
    resumed = TinyRegression(seed=99)  # a different init: the checkpoint's weights must win
    resumed.seed = 0  # ...under the saved run's config
    result = train(resumed, cfg, tmp_path / "b", dataset(24))
    assert result.checkpoint == tmp_path / "b" / "checkpoints" / "step_00000010"
    for a, b in zip(whole.trunk.parameters(), resumed.trunk.parameters()):
        torch.testing.assert_close(a, b, atol=1e-7, rtol=0)
    rows = read_metrics(tmp_path / "b")
    assert [r["step"] for r in rows] == list(range(1, 11))  # rows the dead run logged after step 5 were replaced
    for mine, theirs in zip(rows[5:], reference[5:]):
        for key in ("trunk/mse", "head/mse", "head/l2", "trunk/grad_norm", "head/lr"):
            assert mine[key] == pytest.approx(theirs[key], abs=1e-7), key
    state = json.loads((result.checkpoint / "state.json").read_text())
    assert state["step"] == 10 and state["data"]["epoch"] == 1


def test_precision_fp16_falls_back_on_cpu_and_bf16_trains(tmp_path):
    train(TinyRegression(), config(steps=2, precision="fp16"), tmp_path / "fp16", NoisyRegression())
    assert "precision float32 (requested float16" in (tmp_path / "fp16" / "train.log").read_text()
    train(TinyRegression(), config(steps=20, precision="bf16"), tmp_path / "bf16", NoisyRegression())
    rows = read_metrics(tmp_path / "bf16")
    assert "precision bfloat16" in (tmp_path / "bf16" / "train.log").read_text()
    assert rows[-1]["head/mse"] < rows[0]["head/mse"]


def test_bad_setups_are_one_line_errors(tmp_path):
    with pytest.raises(ConfigError, match="trainer.lr: names groups"):
        train(TinyRegression(), config(lr={"trunk": 1e-3}), tmp_path / "a", NoisyRegression())
    with pytest.raises(ConfigError, match="3 items, fewer than one batch"):
        train(TinyRegression(), config(), tmp_path / "b", NoisyRegression(3))
    frozen = TinyRegression()
    frozen.head.requires_grad_(False)
    with pytest.raises(TrainingError, match="group 'head' has no trainable parameters"):
        train(frozen, config(), tmp_path / "c", NoisyRegression())


def test_train_cli_dispatches_to_a_registered_command(tmp_path, capsys):
    def build(sections, source):
        return TinyRegression(**sections.get("task", {})), NoisyRegression()

    task = TrainingTaskSpec("tiny", "train the tiny regression", build)
    config_file = tmp_path / "tiny.yaml"
    config_file.write_text("trainer:\n  steps: 3\n  batch_size: 4\n  log_every: 1\ntask:\n  hidden: 8\n")
    parser = build_parser([*COMMANDS, *train_cmd.task_commands([task])])
    args = parser.parse_args(["train", "tiny", str(config_file), "--run-dir", str(tmp_path / "run")])
    assert args.func(args) == 0
    assert len(read_metrics(tmp_path / "run")) == 3
    loaded = TinyRegression(hidden=8)
    load_weights(tmp_path / "run" / "checkpoints" / "step_00000003", loaded.modules())
    args = parser.parse_args(["train", "tiny", str(config_file), "--run-dir", str(tmp_path / "seeded"), "--seed", "5", "--steps", "2"])
    assert args.func(args) == 0
    recorded = json.loads((tmp_path / "seeded" / "config.json").read_text())["trainer"]
    assert (recorded["seed"], recorded["steps"]) == (5, 2)
    losses = [{k: v for k, v in read_metrics(run)[1].items() if k.endswith("/total")} for run in (tmp_path / "seeded", tmp_path / "run")]
    assert losses[0] and losses[0] != losses[1]  # the same step with another seed: other data
    config_file.write_text("trainer:\n  stepz: 3\n")
    args = parser.parse_args(["train", "tiny", str(config_file), "--run-dir", str(tmp_path / "run2")])
    with pytest.raises(ConfigError, match="field 'stepz': unknown field"):
        args.func(args)
