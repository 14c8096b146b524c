"""A grid's results as numbers: per row, each metric's aggregate and interval per stem."""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

from tokensep_core.evaluation.stats import Estimate, estimate
from tokensep_core.evaluation import Evaluation

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

    @property
    def ok(self) -> bool:
        return self.status == "ok"


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
            for stem, by_metric in evaluation.values().items():
                if stem not in stems:
                    stems.append(stem)
                for metric, values in by_metric.items():
                    row.estimates.setdefault(metric, {})[stem] = estimate(metric, values)
            for by_stem in row.estimates.values():
                values = [e.value for e in by_stem.values() if not math.isnan(e.value)]
                by_stem[MEAN] = Estimate(sum(values) / len(values) if values else float("nan"), float("nan"), float("nan"), 0)
        rows.append(row)
    return GridSummary(rows, metrics, stems, directions)


def _float(value: Any) -> float:
    return float("nan") if value is None else float(value)
