"""Writes RESULTS.md for the separator-small benchmark from runs/eval/*/results.json.

Usage (from this folder, after run.sh): ../../.venv/bin/python report.py
"""

from __future__ import annotations

import csv
import json
import os
import platform
from pathlib import Path

import torch

HERE = Path(__file__).resolve().parent
SYSTEMS = ("tokensep", "mixture_copy", "codec_oracle")
METRICS = (("mel_distance", "↓"), ("si_sdr", "↑"), ("visqol", "↑"))


def training_summary(run: Path) -> str:
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    state = json.loads(sorted((run / "checkpoints").glob("step_*/state.json"))[-1].read_text())
    first, last = rows[0], rows[-1]
    loss = next(k for k in last if k.endswith("/total"))
    minutes = state.get("train_seconds", float("nan")) / 60
    return f"{state['step']} steps, {minutes:.1f} min of training time, {loss} {float(first[loss]):.3f} (step {first['step']}) → {float(last[loss]):.3f} (step {last['step']})"


def main() -> None:
    results = {name: json.loads((HERE / "runs" / "eval" / name / "results.json").read_text()) for name in SYSTEMS}
    stems = list(results["tokensep"]["summary"])
    lines = [
        "# separator-small: results",
        "",
        "Command: `bash benchmarks/separator_small/run.sh` (then `../../.venv/bin/python report.py` here).",
        f"Machine: {platform.machine()} CPU with {os.cpu_count()} cores, 24 GiB, no GPU, torch {torch.__version__};"
        " shared with other jobs during the run (load average 3–6), every stage run with OMP_NUM_THREADS=1.",
        "",
        f"- codec (`codec.yaml`): {training_summary(HERE / 'runs' / 'codec')}",
        f"- separator (`separator.yaml`): {training_summary(HERE / 'runs' / 'separator')}",
        f"- test set: {len(results['tokensep']['songs'])} held-out synthetic songs of 8 s at 16 kHz stereo (`runs/data/test`)",
        "",
        "| stem | system | " + " | ".join(f"{m} {d}" for m, d in METRICS) + " |",
        "|---|---|" + "---|" * len(METRICS),
    ]
    for stem in stems:
        for system in SYSTEMS:
            values = results[system]["summary"][stem]
            lines.append(f"| {stem} | {system} | " + " | ".join(f"{values.get(m, float('nan')):.3f}" for m, _ in METRICS) + " |")
    lines += ["", "Real-time factor (separation wall time / audio time): " + ", ".join(
        f"{s} {results[s]['real_time_factor']:.3f}" for s in SYSTEMS) + "."]
    beats = [stem for stem in stems if results["tokensep"]["summary"][stem]["mel_distance"] < results["mixture_copy"]["summary"][stem]["mel_distance"]]
    lines += ["", f"tokensep has a lower log-mel distance than mixture copy on {len(beats)} of {len(stems)} stems"
              + (f" ({', '.join(beats)})." if beats else ".")]
    (HERE / "RESULTS.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
