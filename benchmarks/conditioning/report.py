"""Print the held-out conditioning gain of conditioning-probe runs side by side.

Usage: python benchmarks/conditioning/report.py RUN_DIR [RUN_DIR ...]
Reads each run's metrics.csv (columns ``eval/...`` written by the separator task's held-out
evaluation) and prints, per evaluation, the cross-entropy with the true condition and the gains
over the null and the shuffled condition (nats per token), plus the machine and the git commit.
Where ``eval-NAME/results.json`` sits beside ``RUN_DIR`` = ``.../NAME`` (run.sh's evaluation on the
validation songs), it also prints the steps and training minutes and, per stem, the log-mel
distance, its mismatched control and the verdict.
"""

from __future__ import annotations

import csv
import json
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
    summary = [(Path(d), Path(d).parent / f"eval-{Path(d).name}" / "results.json") for d in run_dirs]
    summary = [(run, path) for run, path in summary if path.exists()]
    if summary:
        print("\nmode   steps  train min  last gain_shuffled | per stem: mel distance (mismatched) verdict")
        for run, path in summary:
            state = json.loads(sorted((run / "checkpoints").glob("step_*/state.json"))[-1].read_text())
            result = json.loads(path.read_text())
            last = evaluations(run)[-1]
            stems = "; ".join(
                f"{stem} {result['summary'][stem]['mel_distance']:.3f} ({result['mismatched_summary'][stem]['mel_distance']:.3f}) "
                f"{result['controls'][stem]['verdict']}"
                for stem in result["summary"]
            )
            print(
                f"{run.name:<6} {state['step']:>5} {state.get('train_seconds', 0) / 60:>10.1f} {float(last['eval/gain_shuffled']):>18.4f} | {stems}"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
