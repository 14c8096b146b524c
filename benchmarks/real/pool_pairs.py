"""Pool paired differences over several row pairs of one bench ``scores.csv``: e.g. two training
seeds of the same comparison (``pilot_studio:pilot_dry pilot_studio_s1:pilot_dry_s1``), each pair
matched on song and sampling seed. Prints, per metric and stem, the mean difference (positive: the
first row is better, by the metric's own direction), the bench's two-level bootstrap interval
(:func:`tokensep_core.evaluation.stats.paired_difference`: songs and runs resampled apart, so the
row pairs' shared songs are resampled as one) and how many pairs favour the first row.

    python benchmarks/real/pool_pairs.py SCORES.csv A:B [A:B ...]
"""

from __future__ import annotations

import csv
import sys
from pathlib import Path

import numpy as np

from tokensep_core.evaluation.stats import paired_difference
from tokensep_core.plugins import load_registry

STEMS = ("vocals", "drums", "bass", "other")


def pooled_differences(scores: Path, pairs: list[tuple[str, str]]) -> dict[tuple[str, str], np.ndarray]:
    """``{(metric, stem): [R, N]}``: first minus second row, oriented so that positive is better,
    one line per row pair and sampling seed (R), one column per song (N); NaN where either row has
    no score."""
    own: dict[tuple[str, str, str, str, str], float] = {}
    with scores.open() as f:
        for r in csv.DictReader(f):
            if r["reference"] == "own" and r["value"]:
                own[(r["row"], r["song"], r["seed"], r["metric"], r["stem"])] = float(r["value"])
    rows = {key[0] for key in own}
    missing = [row for pair in pairs for row in pair if row not in rows]
    if missing:
        raise SystemExit(f"pool_pairs: {scores} has no scores of row {missing[0]}")
    registry = load_registry()
    songs = sorted({key[1] for key in own})
    lines = [(a, b, seed) for a, b in pairs for seed in sorted({key[2] for key in own if key[0] == a})]
    out: dict[tuple[str, str], np.ndarray] = {}
    for metric, stem in dict.fromkeys((key[3], key[4]) for key in own):
        sign = 1.0 if getattr(registry.get("metric", metric).factory, "higher_is_better", True) else -1.0
        matrix = np.full((len(lines), len(songs)), np.nan)
        for i, (a, b, seed) in enumerate(lines):
            for j, song in enumerate(songs):
                first, second = own.get((a, song, seed, metric, stem)), own.get((b, song, seed, metric, stem))
                if first is not None and second is not None:
                    matrix[i, j] = sign * (first - second)
        out[(metric, stem)] = matrix
    return out


def main(argv: list[str]) -> int:
    if len(argv) < 2 or any(":" not in p for p in argv[1:]):
        print(__doc__.strip().splitlines()[-1].strip(), file=sys.stderr)
        return 2
    pairs = [tuple(p.split(":", 1)) for p in argv[1:]]
    differences = pooled_differences(Path(argv[0]), pairs)  # type: ignore[arg-type]
    print("    python benchmarks/real/pool_pairs.py " + " ".join(argv))
    print("| metric | stem | pairs | mean [95 % two-level bootstrap] | first better |")
    print("|---|---|---|---|---|")
    for metric in dict.fromkeys(m for m, _ in differences):
        for stem in STEMS:
            d = differences.get((metric, stem))
            if d is None or np.isnan(d).all():
                continue
            result = paired_difference(d, np.zeros_like(d), higher_is_better=True)  # d is already oriented
            print(
                f"| {metric} | {stem} | {result.pairs} | {result.value:+.2f} [{result.low:+.2f}, {result.high:+.2f}] | {result.wins}/{result.pairs} |"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
