"""PNG plots of a grid (matplotlib, no display): bars per metric and stem with 95 % intervals
(each row beside its hatched mismatched-reference control), and quality versus real-time factor."""

from __future__ import annotations

import math
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402

from tokensep_core.audio.io import atomic_path  # noqa: E402
from tokensep_core.bench.summary import MEAN, GridSummary  # noqa: E402


def _save(fig: plt.Figure, path: Path) -> Path:
    with atomic_path(path) as tmp:
        fig.savefig(tmp, format="png", dpi=110, bbox_inches="tight")
    plt.close(fig)
    return path


def bar_chart(summary: GridSummary, metric: str, path: Path) -> Path:
    """Grouped bars: one group per stem, one bar per finished row and one (hatched, same colour)
    per row's mismatched control; non-finite values are not drawn."""
    rows = [r for r in summary.rows if r.scored and metric in r.estimates]
    stems = [s for s in summary.stems if any(s in r.estimates[metric] for r in rows)]
    bars = []  # (label, estimates by stem, colour index, hatched)
    for i, row in enumerate(rows):
        bars.append((row.name, row.estimates[metric], i, False))
        if metric in row.mismatched:
            bars.append((row.mismatched_name, row.mismatched[metric], i, True))
    fig, ax = plt.subplots(figsize=(max(5.0, 1.2 * len(stems) * max(1, len(bars)) / 3 + 2), 3.6))
    width = 0.8 / max(1, len(bars))
    x = np.arange(len(stems))
    for i, (label, by_stem, colour, hatched) in enumerate(bars):
        estimates = [by_stem.get(stem) for stem in stems]
        values = np.array([e.value if e and math.isfinite(e.value) else np.nan for e in estimates])
        low = np.array([e.value - e.low if e and math.isfinite(e.low) and math.isfinite(e.value) else 0.0 for e in estimates])
        high = np.array([e.high - e.value if e and math.isfinite(e.high) and math.isfinite(e.value) else 0.0 for e in estimates])
        ax.bar(
            x + (i - (len(bars) - 1) / 2) * width,
            values,
            width,
            yerr=[low, high],
            capsize=2,
            label=label,
            color=f"C{colour % 10}",
            alpha=0.45 if hatched else 1.0,
            hatch="//" if hatched else None,
        )
    ax.set_xticks(x, stems)
    arrow = "higher is better" if summary.higher_is_better.get(metric, True) else "lower is better"
    ax.set_title(f"{metric} ({arrow}; 95% CI over songs and seeds)")
    ax.grid(axis="y", alpha=0.3)
    ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return _save(fig, path)


def quality_vs_speed(summary: GridSummary, metric: str, path: Path) -> Path:
    """One point per finished row: the metric's mean over stems against the real-time factor."""
    fig, ax = plt.subplots(figsize=(5.5, 3.8))
    for row in summary.rows:
        if not row.scored or metric not in row.estimates:
            continue
        quality, rtf = row.estimates[metric][MEAN].value, row.real_time_factor
        if math.isfinite(quality) and math.isfinite(rtf) and rtf > 0:
            ax.scatter(rtf, quality, label=row.name)
    ax.set_xscale("log")
    ax.set_xlabel("real-time factor (separation time / audio time)")
    ax.set_ylabel(f"{metric}, mean over stems")
    ax.set_title(f"{metric} versus speed")
    ax.grid(alpha=0.3)
    if ax.collections:
        ax.legend(fontsize=7, loc="center left", bbox_to_anchor=(1.0, 0.5))
    return _save(fig, path)


def write_plots(summary: GridSummary, out_dir: Path) -> dict[str, list[Path]]:
    """``OUT/plots/<metric>.png`` and ``OUT/plots/<metric>_vs_rtf.png`` for every metric."""
    plots: dict[str, list[Path]] = {}
    for metric in summary.metrics:
        plots[metric] = [
            bar_chart(summary, metric, out_dir / f"{metric}.png"),
            quality_vs_speed(summary, metric, out_dir / f"{metric}_vs_rtf.png"),
        ]
    return plots
