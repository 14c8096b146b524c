"""A grid's results as numbers: per row, each metric's aggregate and interval per stem, the same
for the row's mismatched-reference control, its input dependence and verdict per stem
(tokensep_core.evaluation.controls)."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from tokensep_core.evaluation import Evaluation
from tokensep_core.evaluation.controls import StemVerdict
from tokensep_core.evaluation.stats import Estimate, estimate

MEAN = "mean"
"""Pseudo-stem: the mean over stems of a metric's aggregates (no interval)."""


@dataclass
class RowSummary:
    """One row's outcome: status, cost and ``estimates[metric][stem]``."""

    name: str
    kind: str
    status: str
    error: str | None
    config: dict[str, Any]
    training: dict[str, Any] = field(default_factory=dict)
    real_time_factor: float = float("nan")
    peak_rss_mib: float = float("nan")
    machine: dict[str, Any] = field(default_factory=dict)
    """Where the evaluation ran (CPU, torch threads, device): resumed rows may come from other runs."""
    estimates: dict[str, dict[str, Estimate]] = field(default_factory=dict)
    mismatched: dict[str, dict[str, Estimate]] = field(default_factory=dict)
    """``estimates`` of the mismatched-reference control (empty with fewer than 2 songs)."""
    input_dependence: dict[str, float] = field(default_factory=dict)
    verdicts: dict[str, StemVerdict] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return self.status == "ok"

    @property
    def mismatched_name(self) -> str:
        """The system name of this row's mismatched-reference control."""
        return f"{self.name} (mismatched)"


@dataclass
class GridSummary:
    rows: list[RowSummary]
    metrics: list[str]
    stems: list[str]
    higher_is_better: dict[str, bool]


def summarize(results: list[dict[str, Any]]) -> GridSummary:
    """Stored row results -> estimates with bootstrap intervals over songs."""
    rows, metrics, stems, directions = [], [], [], {}
    for result in results:
        row = RowSummary(
            result["row"], result["kind"], result["status"], result.get("error"), result["config"], result.get("training") or {}
        )
        if row.ok and result.get("evaluation"):
            evaluation = Evaluation.from_dict(result["evaluation"])
            row.real_time_factor = _float(result["evaluation"].get("real_time_factor"))
            row.peak_rss_mib = _float(result["evaluation"].get("peak_rss_mib"))
            row.machine = evaluation.machine
            directions.update(evaluation.higher_is_better)
            for spec in evaluation.metrics:
                if spec["name"] not in metrics:
                    metrics.append(spec["name"])
            for stem in evaluation.values():
                if stem not in stems:
                    stems.append(stem)
            row.estimates = _estimates(evaluation.values())
            row.mismatched = _estimates(evaluation.values(mismatched=True))
            row.input_dependence = evaluation.input_dependence
            row.verdicts = evaluation.verdicts()
        rows.append(row)
    return GridSummary(rows, metrics, stems, directions)


def _estimates(values: dict[str, dict[str, list[float]]]) -> dict[str, dict[str, Estimate]]:
    """``{stem: {metric: per-song values}}`` -> ``{metric: {stem (and MEAN): estimate}}``."""
    out: dict[str, dict[str, Estimate]] = {}
    for stem, by_metric in values.items():
        for metric, samples in by_metric.items():
            out.setdefault(metric, {})[stem] = estimate(metric, samples)
    for by_stem in out.values():
        means = [e.value for e in by_stem.values() if not math.isnan(e.value)]
        by_stem[MEAN] = Estimate(sum(means) / len(means) if means else float("nan"), float("nan"), float("nan"), 0)
    return out


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)
