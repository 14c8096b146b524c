"""Replaying a CPU-budgeted grid by steps (``tokensep bench --steps-from``): every trained run stops
at the step its recorded run stopped at, without the CPU budget, and gives the same scores."""

import json
from pathlib import Path

import pytest
import yaml

from tokensep_core.bench import run_grid, summarize, write_report
from tokensep_core.bench.replay import recorded_steps
from tokensep_core.errors import ConfigError

pytestmark = pytest.mark.slow  # trains a tiny LM four times (~15 s on 2 cores)

GRID = {
    "base": {
        "model": {"codec": {"name": "debug"}, "encoder": {"name": "debug"}, "lm": {"name": "llama", "params": {"preset": "tiny"}}},
        "augment": {"seconds": 0.25, "examples_per_epoch": 8},
        "inference": {"segment_seconds": 0.25, "batch_size": 8, "sampling": {"greedy": True}},
        "trainer": {
            "batch_size": 2,
            "lr": 3.0e-3,
            "warmup_steps": 1,
            "checkpoint_every": 0,
            "log_every": 1,
            "eval_every": 0,
            "device": "cpu",
        },
    },
    "baselines": [{"name": "mixture_copy", "separator": {"name": "mixture_copy"}}],
    "data": {"synth": {"songs": 4, "seconds": 0.5, "sample_rate": 16000, "seed": 0, "test_fraction": 0.5}},
    "budget": {"steps": 10_000, "cpu_seconds": 1.0},  # a tiny LM step costs a few ms: the CPU budget stops each run
    "metrics": ["si_sdr", "mel_distance"],
    "seeds": [0, 1],
}


@pytest.fixture(scope="module")
def replayed(tmp_path_factory):
    root = tmp_path_factory.mktemp("replay")
    grid = root / "grid.yaml"
    grid.write_text(yaml.safe_dump(GRID))
    first = write_report(summarize(run_grid(grid, root / "first").results), root / "first")
    steps = recorded_steps(first["results.json"])
    again = write_report(summarize(run_grid(grid, root / "again", steps_from=steps).results), root / "again")
    return grid, steps, json.loads(first["results.json"].read_text()), json.loads(again["results.json"].read_text())


def _row(results: dict, name: str) -> dict:
    return next(r for r in results["rows"] if r["row"] == name)


def test_each_run_stops_at_its_recorded_step_without_a_cpu_budget(replayed) -> None:
    _, steps, first, again = replayed
    assert set(steps) == {"base"} and set(steps["base"]) == {0, 1}
    assert all(1 <= s < 10_000 for s in steps["base"].values())  # the CPU budget stopped them
    for run in _row(again, "base")["training"]:
        assert run["steps"] == steps["base"][run["seed"]]
        assert run["budget"] == {"steps": 10_000, "stop_at_step": steps["base"][run["seed"]]}  # the schedule kept, no CPU budget
    assert [r["budget"]["max_cpu_seconds"] for r in _row(first, "base")["training"]] == [1.0, 1.0]


def test_the_replay_gives_the_same_scores(replayed) -> None:
    _, _, first, again = replayed
    assert _row(again, "base")["estimates"] == _row(first, "base")["estimates"]


def test_a_row_without_recorded_steps_is_refused(replayed, tmp_path) -> None:
    grid, steps, _, _ = replayed
    with pytest.raises(ConfigError, match=r"no recorded steps for row 'base' seed 1 \(recorded: \[0\]\)$"):
        run_grid(grid, tmp_path / "out", steps_from={"base": {0: steps["base"][0]}})


def test_a_results_file_that_is_not_a_report_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "results.json"
    path.write_text(json.dumps({"songs": []}))
    with pytest.raises(ConfigError, match=r"not a grid report's results.json \(no 'rows' list\)$"):
        recorded_steps(path)
