"""Equal compute: a row's compute is that of the training steps behind its checkpoint, a row's CPU
budget is charged with the CPU seconds of the grid codecs it uses, and a row whose codecs used all
of it fails with a one-line error before anything trains."""

from pathlib import Path

import pytest
from torch import nn

from tokensep_core.bench.compute import charge_codecs, training_compute
from tokensep_core.bench.rows import Row, build_row
from tokensep_core.errors import ConfigError
from tokensep_core.plugins import load_plugins
from tokensep_core.training.checkpoint import write_checkpoint

TRAINER = {"steps": 500, "max_cpu_seconds": 100.0, "lr": 0.01}


def test_a_token_row_gets_its_budget_less_its_codecs_cpu_seconds() -> None:
    used = {"hcodec": {"wall_seconds": 50.0, "cpu_seconds": 30.0}, "dac": {"wall_seconds": 9.0, "cpu_seconds": 12.5}}
    assert charge_codecs(TRAINER, used, "row r") == {"steps": 500, "max_cpu_seconds": 57.5, "lr": 0.01}
    assert TRAINER["max_cpu_seconds"] == 100.0  # the row's config is not modified


def test_without_a_cpu_budget_or_codecs_the_trainer_is_unchanged() -> None:
    used = {"hcodec": {"wall_seconds": 50.0, "cpu_seconds": 30.0}}
    assert charge_codecs({"steps": 500, "max_minutes": 2.0}, used, "row r") == {"steps": 500, "max_minutes": 2.0}
    assert charge_codecs(TRAINER, {}, "row r") == TRAINER


@pytest.mark.parametrize("cpu", [100.0, 140.0])
def test_a_codec_that_used_the_whole_budget_fails_the_row(cpu) -> None:
    with pytest.raises(ConfigError) as info:
        charge_codecs(TRAINER, {"hcodec": {"wall_seconds": 1.0, "cpu_seconds": cpu}}, "row r")
    expected = f"row r: training its codec (hcodec) alone used {cpu:.1f} CPU s of the 100 CPU s budget; nothing is left to train the row"
    assert str(info.value) == expected


def test_build_row_charges_the_codecs_before_training(tmp_path) -> None:
    training = {"model": {"codec_checkpoint": "{codec:c}"}, "trainer": TRAINER}
    row = Row("tok", {"kind": "generative", "training": training, "codecs": {"c": {}}})
    codecs: dict[str, Path | str] = {"c": tmp_path / "codec"}
    with pytest.raises(ConfigError, match=r"^row tok: training its codec \(c\) alone used 120\.0 CPU s"):
        build_row(row, tmp_path / "row", load_plugins().registry, codecs, {"c": {"wall_seconds": 1.0, "cpu_seconds": 120.0}})
    assert not (tmp_path / "row").exists()  # nothing was trained


def _checkpoint(run_dir: Path, step: int, wall: float, cpu: float) -> None:
    state = {"step": step, "train_seconds": wall, "train_cpu_seconds": cpu}
    write_checkpoint(run_dir / "checkpoints", step, {"model": nn.Linear(2, 2)}, {"state": state}, {})


def test_the_compute_is_that_behind_the_newest_checkpoint(tmp_path) -> None:
    """A killed attempt's steps after its last checkpoint are not behind the model: the resumed run
    starts from that checkpoint's counts, so the newest checkpoint's state is the whole story."""
    assert training_compute(tmp_path / "run") == {"wall_seconds": 0.0, "cpu_seconds": 0.0}  # nothing trained yet
    _checkpoint(tmp_path / "run", 400, 1163.7, 781.9)
    _checkpoint(tmp_path / "run", 1000, 2900.5, 1950.25)
    (tmp_path / "run" / "checkpoints" / "step_00001200").mkdir()  # a half-written one: no checksums
    assert training_compute(tmp_path / "run") == {"wall_seconds": 2900.5, "cpu_seconds": 1950.25}
