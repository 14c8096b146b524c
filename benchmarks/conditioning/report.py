"""Print the held-out conditioning gain of conditioning-probe runs side by side.

Usage: python benchmarks/conditioning/report.py RUN_DIR [RUN_DIR ...]
Reads each run's metrics.csv (columns ``eval/...`` written by the separator task's held-out
evaluation) and prints, per evaluation, the cross-entropy with the true condition and the gains
over the null and the shuffled condition (nats per token), plus the machine and the git commit.
"""

from __future__ import annotations

import csv
import platform
import subprocess
import sys
from pathlib import Path

import torch

COLUMNS = ("eval/ce_true", "eval/gain_null", "eval/gain_shuffled")


def evaluations(run_dir: Path) -> list[dict[str, str]]:
    """The metrics.csv rows of ``run_dir`` that hold an evaluation."""
    with (run_dir / "metrics.csv").open() as handle:
        return [row for row in csv.DictReader(handle) if row.get("eval/ce_true")]


def main(run_dirs: list[str]) -> int:
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
    print(f"# command: python benchmarks/conditioning/report.py {' '.join(run_dirs)}")
    print(f"# machine: {platform.processor() or platform.machine()}, {torch.get_num_threads()} torch threads here; commit {commit}")
    for run_dir in map(Path, run_dirs):
        rows = evaluations(run_dir)
        print(f"\n{run_dir.name}: {len(rows)} evaluations")
        print(f"{'step':>6} " + " ".join(f"{c.split('/')[1]:>14}" for c in COLUMNS))
        for row in rows:
            print(f"{row['step']:>6} " + " ".join(f"{float(row[c]):>14.4f}" for c in COLUMNS))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
