"""Two processes on one grid output never run the same run: the second skips a run whose folder
another holds the lock of (reported pending), and the lock goes with its process."""

import fcntl
import os
import subprocess
import sys
import time

import yaml

from tokensep_core.bench import run_grid
from tokensep_core.runtime.run_lock import LOCK_FILE, held_elsewhere, run_lock

GRID = {
    "baselines": [{"name": "copy", "separator": {"name": "mixture_copy"}}, {"name": "oracle", "separator": {"name": "oracle"}}],
    "data": {"synth": {"songs": 6, "seconds": 1.0, "sample_rate": 8000, "seed": 0, "test_fraction": 0.5}},
    "metrics": ["si_sdr"],
}


def test_a_run_locked_by_another_holder_is_skipped_as_pending_then_runs_once_free(tmp_path) -> None:
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump(GRID))
    out = tmp_path / "out"
    (out / "rows" / "copy").mkdir(parents=True)
    fd = os.open(out / "rows" / "copy" / LOCK_FILE, os.O_RDWR | os.O_CREAT)
    fcntl.flock(fd, fcntl.LOCK_EX)  # another open file description: as another process would hold it
    try:
        first = run_grid(grid, out)
    finally:
        os.close(fd)
    by_row = {r["row"]: r for r in first.results}
    assert first.ran == ["oracle"] and not (out / "rows" / "copy" / "result.json").exists()
    assert by_row["copy"]["status"] == "pending" and by_row["copy"]["error"] == "running in another process"
    again = run_grid(grid, out)  # the holder is gone
    assert again.ran == ["copy"] and (out / "rows" / "copy" / "result.json").is_file()
    assert not list(out.rglob(LOCK_FILE))


def test_the_lock_is_released_when_its_process_dies(tmp_path) -> None:
    holder = subprocess.Popen(
        [sys.executable, "-c", f"from tokensep_core.runtime.run_lock import run_lock\nwith run_lock({str(tmp_path)!r}):\n    input()"],
        stdin=subprocess.PIPE,
    )
    try:
        for _ in range(600):  # until the child holds it (up to 30 s: it imports tokensep first)
            time.sleep(0.05)
            with run_lock(tmp_path) as mine:
                if not mine:
                    break
            holder.poll()
        else:
            raise AssertionError("the child never took the lock")
    finally:
        holder.kill()
        holder.wait()
    with run_lock(tmp_path) as mine:
        assert mine


def test_the_holder_removes_the_lock_file_and_a_refused_caller_leaves_it(tmp_path) -> None:
    with run_lock(tmp_path) as mine:
        assert mine and (tmp_path / LOCK_FILE).is_file()
        with run_lock(tmp_path) as second:
            assert not second
        assert (tmp_path / LOCK_FILE).is_file()  # the refused caller did not remove the holder's file
    assert not (tmp_path / LOCK_FILE).exists()


def test_a_report_only_pass_names_a_run_another_process_holds_without_taking_its_lock(tmp_path) -> None:
    grid = tmp_path / "grid.yaml"
    grid.write_text(yaml.safe_dump(GRID))
    out = tmp_path / "out"
    run_dir = out / "rows" / "copy"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import fcntl, os, sys\nos.makedirs({str(run_dir)!r}, exist_ok=True)\n"
            f"fd = os.open({str(run_dir / LOCK_FILE)!r}, os.O_RDWR | os.O_CREAT)\nfcntl.flock(fd, fcntl.LOCK_EX)\n"
            "print('held', flush=True)\ninput()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout.readline() == "held\n"
        assert held_elsewhere(run_dir) and not held_elsewhere(tmp_path)  # no lock file there
        report = run_grid(grid, out, only=[])  # what --report-only runs: nothing
        by_row = {r["row"]: r for r in report.results}
        assert report.ran == [] and by_row["copy"]["error"] == "running in another process"
        assert by_row["oracle"]["error"].startswith("not run yet")
        assert held_elsewhere(run_dir)  # the probe never took the holder's lock
    finally:
        holder.kill()
        holder.wait()
    assert not held_elsewhere(run_dir)
    with run_lock(run_dir) as mine:
        assert mine and not held_elsewhere(run_dir)  # this process's own lock is not another's
