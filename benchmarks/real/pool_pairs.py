"""Pool paired differences over several row pairs of one bench ``scores.csv``: e.g. two training
seeds of the same comparison (``pilot_studio:pilot_dry pilot_studio_s1:pilot_dry_s1``), each pair
matched on song and sampling seed. Prints, per metric and stem, the mean difference (positive: the
first row is better; the log-mel distance is negated), a percentile bootstrap interval over the
pooled pairs and how many pairs favour the first row. The pairs of different row pairs share
songs, so the interval is optimistic: read it beside the per-pair counts.

    python benchmarks/real/pool_pairs.py SCORES.csv A:B [A:B ...]
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np

LOWER_IS_BETTER = {"mel_distance"}
STEMS = ("vocals", "drums", "bass", "other")
RESAMPLES = 10_000


def pooled_differences(scores: Path, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], np.ndarray]:
    """``{(metric, stem): [N]}``: first minus second row (sign flipped where lower is better) for
    every song and sampling seed both rows scored, over all ``pairs``."""
    own: dict[tuple[str, str, str, str, str], float] = {}
    with scores.open() as f:
        for r in csv.DictReader(f):
            if r["reference"] == "own" and r["value"]:
                own[(r["row"], r["song"], r["seed"], r["metric"], r["stem"])] = float(r["value"])
    out: dict[tuple[str, str], list[float]] = {}
    for a, b in pairs:
        if not any(key[0] == a for key in own) or not any(key[0] == b for key in own):
            raise SystemExit(f"pool_pairs: {scores} has no scores of row {a if not any(k[0] == a for k in own) else b}")
        for (row, song, seed, metric, stem), value in own.items():
            other = own.get((b, song, seed, metric, stem))
            if row == a and other is not None:
                sign = -1.0 if metric in LOWER_IS_BETTER else 1.0
                out.setdefault((metric, stem), []).append(sign * (value - other))
    return {key: np.array(values) for key, values in out.items()}


def main(argv: list[str]) -> int:
    if len(argv) < 2 or any(":" not in p for p in argv[1:]):
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    pairs = [tuple(p.split(":", 1)) for p in argv[1:]]
    differences = pooled_differences(Path(argv[0]), pairs)  # type: ignore[arg-type]
    rng = np.random.default_rng(0)
    print("    python benchmarks/real/pool_pairs.py " + " ".join(argv))
    print("| metric | stem | pairs | mean [95 % bootstrap] | first better |")
    print("|---|---|---|---|---|")
    for metric in dict.fromkeys(m for m, _ in differences):
        for stem in STEMS:
            d = differences.get((metric, stem))
            if d is None or d.size == 0:
                continue
            means = d[rng.integers(0, d.size, (RESAMPLES, d.size))].mean(axis=1)
            low, high = np.percentile(means, [2.5, 97.5])
            print(f"| {metric} | {stem} | {d.size} | {d.mean():+.2f} [{low:+.2f}, {high:+.2f}] | {(d > 0).sum()}/{d.size} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
