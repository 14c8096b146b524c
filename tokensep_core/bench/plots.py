"""PNG plots of a grid (matplotlib, no display): bars per metric and stem with 95 % intervals
(each row beside its hatched mismatched-reference control), quality versus real-time factor, and
per declared comparison its paired differences (hollow where a row fails its own control)."""

from __future__ import annotations

import math
import re
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend must be chosen first)
import numpy as np  # noqa: E402

from tokensep_core.audio.io import atomic_path  # noqa: E402
from tokensep_core.bench.summary import MEAN, ComparisonSummary, GridSummary, own_controls  # noqa: E402


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
    if bars:
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


def comparison_chart(summary: GridSummary, comparison: ComparisonSummary, path: Path) -> Path:
    """One panel per metric: per stem, the mean paired difference a − b (oriented: positive, a is
    better) with its 95 % interval, coloured by where the interval lies; a hollow marker where a
    row does not beat its own mismatched control on that metric and stem."""
    metrics = [m for m in summary.metrics if m in comparison.differences]
    fig, axes = plt.subplots(1, max(1, len(metrics)), figsize=(2.6 * max(1, len(metrics)) + 1.0, 0.5 * len(summary.stems) + 1.4))
    axes = np.atleast_1d(axes)
    for ax, metric in zip(axes, metrics):
        by_stem = comparison.differences[metric]
        stems = [s for s in summary.stems if s in by_stem and math.isfinite(by_stem[s].value)]
        for y, stem in enumerate(stems):
            d = by_stem[stem]
            bounded = math.isfinite(d.low) and math.isfinite(d.high)
            colour = "C2" if bounded and d.low > 0 else "C3" if bounded and d.high < 0 else "0.45"
            passes = own_controls(summary, (comparison.a, comparison.b), metric, stem) == "both pass"
            if bounded:
                ax.plot([d.low, d.high], [y, y], color=colour, lw=2)
            ax.plot(d.value, y, "o", ms=7, color=colour, markerfacecolor=colour if passes else "white")
        ax.axvline(0.0, color="0.2", lw=0.8)
        ax.set_yticks(range(len(stems)), stems if ax is axes[0] else [""] * len(stems))
        ax.set_ylim(-0.6, len(stems) - 0.4)
        ax.invert_yaxis()
        ax.set_title(metric, fontsize=9)
        ax.grid(axis="x", alpha=0.3)
    fig.suptitle(
        f"{comparison.a} − {comparison.b} (positive: {comparison.a} better; 95% CI; hollow: a row fails its own control)", fontsize=9
    )
    return _save(fig, path)


def _file_part(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", name)


def write_plots(summary: GridSummary, out_dir: Path) -> dict[str, list[Path]]:
    """``OUT/plots/<metric>.png`` and ``OUT/plots/<metric>_vs_rtf.png`` for every metric, and
    ``OUT/plots/compare_<a>_vs_<b>.png`` (under the key ``comparisons``) for every declared
    comparison that has differences."""
    plots: dict[str, list[Path]] = {}
    for metric in summary.metrics:
        plots[metric] = [
            bar_chart(summary, metric, out_dir / f"{metric}.png"),
            quality_vs_speed(summary, metric, out_dir / f"{metric}_vs_rtf.png"),
        ]
    plots["comparisons"] = [
        comparison_chart(summary, c, out_dir / f"compare_{_file_part(c.a)}_vs_{_file_part(c.b)}.png")
        for c in summary.comparisons
        if c.differences
    ]
    return plots
