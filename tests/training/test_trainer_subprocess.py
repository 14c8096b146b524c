"""The trainer as users run it: killed with SIGKILL and restarted, and under torchrun with 2 CPU ranks."""

import csv
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
import torch
from tiny_task import TinyRegression

from tokensep_core.training.checkpoint import list_checkpoints, load_weights, read_torch, verify_checkpoint

SCRIPT = Path(__file__).resolve().parent / "train_tiny.py"
REPO = Path(__file__).resolve().parents[2]


LAUNCH_FAILURES = ("EADDRINUSE", "Address already in use", "RendezvousConnectionError", "RendezvousTimeoutError")


def run_script(run_dir: Path, *args: str, launcher: tuple[str, ...] = ()) -> None:
    """Run train_tiny.py (under ``launcher``, e.g. torchrun); failures show the subprocess's stderr.
    A torchrun launch that loses its free port to another process is retried once: that race is
    the launcher's, not the trainer's."""
    cmd = [sys.executable, *launcher, str(SCRIPT), str(run_dir), *args]
    for attempt in (1, 2):
        done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300)
        if done.returncode == 0:
            return
        if not (launcher and attempt == 1 and any(s in done.stderr for s in LAUNCH_FAILURES)):
            break
    raise AssertionError(f"{' '.join(cmd)} exited {done.returncode}:\n{done.stderr[-3000:]}")


def metrics(run_dir: Path) -> list[dict[str, float]]:
    with (run_dir / "metrics.csv").open() as f:
        return [{k: float(v) for k, v in row.items() if v} for row in csv.DictReader(f)]


def final_weights(run_dir: Path) -> list[torch.Tensor]:
    task = TinyRegression()
    load_weights(list_checkpoints(run_dir / "checkpoints")[-1], task.modules())
    return [*task.trunk.parameters(), *task.head.parameters()]


@pytest.mark.slow
@pytest.mark.parametrize("kill_after", [0.13])
def test_sigkill_and_restart_gives_the_losses_of_an_uninterrupted_run(tmp_path, kill_after):
    common = ("--steps", "24", "--checkpoint-every", "1", "--keep-last", "3")
    run_script(tmp_path / "reference", *common)

    killed = tmp_path / "killed"
    proc = subprocess.Popen(
        [sys.executable, str(SCRIPT), str(killed), *common, "--sleep", "0.02"],
        cwd=REPO,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        deadline = time.monotonic() + 120
        while not any(int(p.name[5:]) >= 4 for p in list_checkpoints(killed / "checkpoints")):
            assert proc.poll() is None and time.monotonic() < deadline, "training ended before it could be killed"
            time.sleep(0.01)
        time.sleep(kill_after)  # checkpoints are written every step, so the kill often lands mid-write
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    survivors = list_checkpoints(killed / "checkpoints")
    assert survivors and int(survivors[-1].name[5:]) < 24
    for path in survivors:  # whatever the kill interrupted, every visible checkpoint is complete
        verify_checkpoint(path)

    run_script(killed, *common)
    reference, resumed = metrics(tmp_path / "reference"), metrics(killed)
    assert [r["step"] for r in resumed] == list(range(1, 25))
    for mine, theirs in zip(resumed, reference):
        for key in ("trunk/mse", "head/mse", "head/l2", "trunk/grad_norm", "head/grad_norm", "trunk/lr"):
            assert mine[key] == pytest.approx(theirs[key], abs=1e-6), (mine["step"], key)
    for a, b in zip(final_weights(killed), final_weights(tmp_path / "reference")):
        torch.testing.assert_close(a, b, atol=1e-6, rtol=0)


@pytest.mark.slow
def test_two_cpu_ranks_under_torchrun_train_like_one_process_with_the_joint_batch(tmp_path):
    # without dropout, 2 ranks × batch 4 with averaged gradients is the same optimisation as 1 × 8
    common = ("--steps", "6", "--checkpoint-every", "3", "--dropout", "0")
    torchrun = ("-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2")
    run_script(tmp_path / "ddp", *common, "--batch-size", "4", launcher=torchrun)
    run_script(tmp_path / "single", *common, "--batch-size", "8")

    ddp_ckpts, single_ckpts = list_checkpoints(tmp_path / "ddp" / "checkpoints"), list_checkpoints(tmp_path / "single" / "checkpoints")
    assert [p.name for p in ddp_ckpts] == [p.name for p in single_ckpts] == ["step_00000003", "step_00000006"]
    assert set(verify_checkpoint(ddp_ckpts[-1])) == set(verify_checkpoint(single_ckpts[-1]))
    assert len(read_torch(ddp_ckpts[-1], "rng")["ranks"]) == 2
    assert "2 rank(s)" in (tmp_path / "ddp" / "train.log").read_text()
    for a, b in zip(final_weights(tmp_path / "ddp"), final_weights(tmp_path / "single")):
        torch.testing.assert_close(a, b, atol=1e-5, rtol=1e-4)
    for mine, theirs in zip(metrics(tmp_path / "ddp"), metrics(tmp_path / "single")):
        assert mine["head/mse"] == pytest.approx(theirs["head/mse"], abs=1e-5)
    # the process group is gone when training returns: gloo threads left for the interpreter's
    # finalisation once aborted a rank at exit (torch.distributed.nn held the group)
    for rank in (0, 1):
        threads = (tmp_path / "ddp" / f"threads_rank{rank}.txt").read_text().split()
        assert not [name for name in threads if "gloo" in name], threads
