"""SIGKILL during ``tokensep bench``: killed after the first row is stored and while the second
row is mid-training, a re-run keeps the stored row, resumes the interrupted one from its last
complete checkpoint, and leaves no temporary file behind."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
TOKENSEP = (sys.executable, "-m", "tokensep_core.cli.main")
STEPS, EVERY = 30, 10
GRID = {  # benchmarks/smoke.yaml shrunk: two tiny generative rows and one bound
    "base": {
        "model": {
            "codec": {"name": "debug"},
            "encoder": {"name": "debug"},
            "lm": {"name": "llama", "params": {"preset": "tiny"}},
            "pattern": {"name": "delay"},
        },
        "augment": {"seconds": 0.25, "examples_per_epoch": 8},
        "inference": {"segment_seconds": 0.25, "batch_size": 8},
        "trainer": {"batch_size": 2, "lr": 3.0e-3, "warmup_steps": 1, "checkpoint_every": EVERY, "log_every": 1, "device": "cpu"},
    },
    "axes": {
        "track_order": [
            {"name": "sequential", "set": {"model.track_order": {"name": "sequential"}}},
            {"name": "independent", "set": {"model.track_order": {"name": "independent"}}},
        ]
    },
    "baselines": [{"name": "mixture_copy", "separator": {"name": "mixture_copy"}}],
    "data": {"synth": {"songs": 3, "seconds": 1.0, "sample_rate": 16000, "seed": 0, "test_fraction": 0.34}},
    "budget": {"steps": STEPS},
    "metrics": ["si_sdr"],
    "seeds": [0],
}
ROWS = ("sequential", "independent", "mixture_copy")


def _kill_when(argv: list[str], ready: Callable[[], bool]) -> None:
    """Start ``tokensep argv`` and SIGKILL it as soon as ``ready()`` holds."""
    started = time.monotonic()
    proc = subprocess.Popen([*TOKENSEP, *argv], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        while not ready():
            assert proc.poll() is None, f"the job exited ({proc.returncode}) before it could be killed"
            assert time.monotonic() - started < 180, "the job made no progress"
            time.sleep(0.002)
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


def _complete_checkpoints(run_dir: Path) -> list[str]:
    return sorted(p.parent.name for p in (run_dir / "checkpoints").glob("step_*/checksums.json"))


@pytest.mark.slow
def test_bench_killed_mid_row_resumes_without_redoing_finished_rows(tmp_path: Path) -> None:
    grid, out = tmp_path / "grid.yaml", tmp_path / "out"
    grid.write_text(yaml.safe_dump(GRID))
    argv = ["bench", str(grid), "-o", str(out)]
    done, interrupted = out / "rows" / "sequential" / "seed_0", out / "rows" / "independent" / "seed_0"  # a trained row's run per seed

    # killed once the first row is stored and the second has a checkpoint but no result yet
    _kill_when(argv, lambda: (done / "result.json").is_file() and bool(_complete_checkpoints(interrupted / "run")))
    assert not (interrupted / "result.json").exists(), "killed too late: the second row had finished"
    assert _complete_checkpoints(interrupted / "run")[-1] != f"step_{STEPS:08d}"
    stored = (done / "result.json").read_bytes()
    stamp = (done / "result.json").stat().st_mtime_ns
    # what a kill in the middle of an atomic write leaves: a hidden, half-written temporary file
    (interrupted / ".result.json.k1ll3d.part").write_bytes(stored[: len(stored) // 2])

    rerun = subprocess.run([*TOKENSEP, *argv], cwd=REPO, capture_output=True, text=True, timeout=300)
    assert rerun.returncode == 0, rerun.stderr[-2000:]
    assert "2 rows run, 1 already done, 0 failed" in rerun.stdout
    assert (done / "result.json").read_bytes() == stored and (done / "result.json").stat().st_mtime_ns == stamp

    result = json.loads((interrupted / "result.json").read_text())
    assert result["status"] == "ok" and result["error"] is None and result["training"]["steps"] == STEPS
    assert Path(result["training"]["checkpoint"]).name == f"step_{STEPS:08d}"
    assert set(result["evaluation"]["summary"]) == {"vocals", "drums", "bass", "other"}
    assert "resumed from" in (interrupted / "run" / "train.log").read_text(), "the row resumed its training"

    leftovers = [p.relative_to(out).as_posix() for p in out.rglob("*") if p.name.startswith(".") or p.name.endswith(".part")]
    assert leftovers == []
    markdown = (out / "results.md").read_text()
    for row, kind in zip(ROWS, ("generative", "generative", "separator")):
        assert f"| {row} | {kind} | ok |" in markdown
    assert f"| independent | generative | ok | {STEPS} |" in markdown
