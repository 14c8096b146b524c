"""Metric sinks of a run: ``metrics.csv`` (one row per logged step) and TensorBoard events."""

from __future__ import annotations

import csv
from pathlib import Path

from torch.utils.tensorboard import SummaryWriter

from tokensep_core.audio.io import atomic_path


class MetricsLog:
    """Rows ``{"step": int, name: float, ...}`` to ``metrics.csv`` and ``tensorboard/``.

    Opening at ``start_step`` drops rows logged after it by a run that died before its next
    checkpoint, so a resumed run's log has each step once. A metric that first appears late
    (e.g. a loss switched on after N steps) widens the CSV header by rewriting the file.
    """

    def __init__(self, run_dir: str | Path, start_step: int) -> None:
        self.path = Path(run_dir) / "metrics.csv"
        self.columns, rows = self._read(start_step)
        self._rewrite(rows)
        self.tensorboard = SummaryWriter(str(Path(run_dir) / "tensorboard"), purge_step=start_step + 1 if start_step else None)

    def _read(self, last_step: int | None = None) -> tuple[list[str], list[dict[str, str]]]:
        if not self.path.exists():
            return ["step"], []
        with self.path.open(newline="") as f:
            reader = csv.DictReader(f)
            rows = [r for r in reader if r.get("step", "").isdigit() and (last_step is None or int(r["step"]) <= last_step)]
            return list(reader.fieldnames or ["step"]), rows

    def _rewrite(self, rows: list[dict[str, str]]) -> None:
        with atomic_path(self.path) as tmp:
            with tmp.open("w", newline="") as f:
                writer = csv.DictWriter(f, self.columns, restval="")
                writer.writeheader()
                writer.writerows(rows)

    def write(self, step: int, metrics: dict[str, float]) -> None:
        row = {"step": str(step), **{k: repr(float(v)) for k, v in metrics.items()}}
        new = [k for k in row if k not in self.columns]
        if new:
            rows = self._read()[1]
            self.columns = self.columns + new
            self._rewrite(rows + [row])
        else:
            with self.path.open("a", newline="") as f:
                csv.DictWriter(f, self.columns, restval="").writerow(row)
        for name, value in metrics.items():
            self.tensorboard.add_scalar(name, value, step)

    def close(self) -> None:
        self.tensorboard.close()
