"""Where separators sit on the leaky-oracle ladder: one panel per metric and stem.

The x axis is the leakage of the ladder rows ``oracle_leakNN`` (the true stem plus NN/100 of the
rest of the mixture, 20 log10 of that in dB) and of mixture copy (0 dB). Solid: each rung's score
with its 95 % interval; dashed: the same outputs against the mismatched references. Each row named
with ``--rows`` is a horizontal band (its score and interval) with a dotted line at its own
mismatched score.

Usage: python benchmarks/real/leak_ladder.py RESULTS_JSON OUT_PNG [--rows ROW,ROW] [--metrics visqol,mel_distance]
(RESULTS_JSON: a ``tokensep bench`` results.json whose grid has ``oracle_leakNN`` rows.)
"""

from __future__ import annotations

import argparse
import json
import math
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402

LADDER = re.compile(r"^oracle_leak(\d+)$")
COLOURS = ("tab:red", "tab:green", "tab:purple", "tab:orange")


def ladder(rows: dict[str, dict]) -> list[tuple[float, str]]:
    """``(leakage dB, row)`` of the ladder rows and mixture copy, most leaky last."""
    rungs = [(20 * math.log10(int(m.group(1)) / 100), name) for name in rows if (m := LADDER.match(name))]
    if "mixture_copy" in rows:
        rungs.append((0.0, "mixture_copy"))
    return sorted(rungs)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("results", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--rows", default="default_decoder_mid", help="rows drawn as bands, comma-separated")
    parser.add_argument("--metrics", default="visqol,mel_distance")
    args = parser.parse_args()
    data = json.loads(args.results.read_text())
    rows = {row["row"]: row for row in data["rows"] if row["status"] in ("ok", "partial")}
    rungs = ladder(rows)
    if len(rungs) < 2:
        raise SystemExit(f"{args.results}: no oracle_leakNN rows to draw a ladder from")
    bands = [name for name in args.rows.split(",") if name]
    missing = [name for name in bands if name not in rows]
    if missing:
        raise SystemExit(f"{args.results}: no finished row {', '.join(missing)}")
    metrics, stems = args.metrics.split(","), data["stems"]
    fig, axes = plt.subplots(len(metrics), len(stems), figsize=(3.2 * len(stems), 2.8 * len(metrics)), squeeze=False)
    xs = [db for db, _ in rungs]
    for i, metric in enumerate(metrics):
        for j, stem in enumerate(stems):
            ax = axes[i][j]
            own = [rows[name]["estimates"][metric][stem] for _, name in rungs]
            other = [rows[name]["mismatched"][metric][stem] for _, name in rungs]
            low = [c["value"] - c["low"] for c in own]
            high = [c["high"] - c["value"] for c in own]
            ax.errorbar(xs, [c["value"] for c in own], yerr=[low, high], color="black", marker="o", capsize=3, label="ladder")
            ax.plot(xs, [c["value"] for c in other], color="grey", linestyle="--", marker=".", label="ladder, mismatched")
            for colour, name in zip(COLOURS, bands):
                cell, control = rows[name]["estimates"][metric][stem], rows[name]["mismatched"][metric][stem]
                ax.axhspan(cell["low"], cell["high"], color=colour, alpha=0.15)
                ax.axhline(cell["value"], color=colour, label=name)
                ax.axhline(control["value"], color=colour, linestyle=":", label=f"{name}, mismatched")
            ax.set_xticks(xs, ["copy" if db == 0 else f"{db:.0f}" for db in xs])
            ax.set_title(f"{stem}: {metric}", fontsize=9)
            if i == len(metrics) - 1:
                ax.set_xlabel("leakage of the rest of the song (dB)", fontsize=8)
    handles, labels = axes[0][0].get_legend_handles_labels()
    fig.legend(handles, labels, loc="lower center", ncol=2 + 2 * len(bands), fontsize=7, frameon=False)
    fig.tight_layout(rect=(0, 0.06, 1, 1))
    args.out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(args.out, dpi=110)
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
