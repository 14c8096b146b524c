"""Replaying a grid's training by steps: ``tokensep bench GRID --steps-from RESULTS.json``.

A CPU-seconds (or minutes) budget gives rows equal compute, but where it stops a run depends on
the machine and its load. Every run records the step it stopped at, so a re-run can stop each run
at that step instead (``trainer.stop_at_step``, the time and CPU budgets dropped, ``trainer.steps``
and so the schedule unchanged): the same steps on the same batches, on any machine."""

from __future__ import annotations

import copy
from pathlib import Path
from typing import Any

from tokensep_core.bench.grid import GridConfig
from tokensep_core.bench.rows import Row
from tokensep_core.config import read_config_file
from tokensep_core.errors import ConfigError

RecordedSteps = dict[str, dict[int, int]]
"""``{row: {seed: step the run stopped at}}``."""


def recorded_steps(path: str | Path) -> RecordedSteps:
    """The steps each trained run of a grid report's ``results.json`` stopped at. A run's training
    summary names its seed; in reports written before it did, the runs follow the row's seeds."""
    data = read_config_file(path)
    rows = data.get("rows") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise ConfigError(f"{path}: not a grid report's results.json (no 'rows' list)")
    steps: RecordedSteps = {}
    for row in rows:
        runs = [t for t in row.get("training") or [] if "steps" in t]
        if not runs:
            continue
        seeds = [t["seed"] for t in runs] if all("seed" in t for t in runs) else row.get("seeds") or []
        if len(seeds) != len(runs) or any(seed is None for seed in seeds):
            raise ConfigError(f"{path}: row {row['row']!r} has {len(runs)} trained run(s) for seeds {seeds}; cannot tell which is which")
        steps[row["row"]] = {int(seed): int(t["steps"]) for seed, t in zip(seeds, runs, strict=True)}
    return steps


def check_replayable(grid: GridConfig, source: str) -> None:
    """A replay stops the rows by steps; the grid codecs must already be step-budgeted (a codec
    stopped by time or CPU seconds would not be the same codec)."""
    budget = grid.codec_budget
    if budget is not None and (budget.minutes is not None or budget.cpu_seconds is not None):
        raise ConfigError(f"{source}: --steps-from replays rows only; codec_budget must be steps alone, not minutes or CPU seconds")


def with_recorded_steps(run: Row, seed: int | None, steps: RecordedSteps, source: str) -> Row:
    """``run`` (one seed of a trained row) stopping at its recorded step, without time or CPU budget."""
    recorded = steps.get(run.name, {})
    if seed not in recorded:
        raise ConfigError(f"{source}: no recorded steps for row {run.name!r} seed {seed} (recorded: {sorted(recorded) or 'none'})")
    config: dict[str, Any] = copy.deepcopy(run.config)
    trainer = (config["training"] if run.kind == "generative" else config).setdefault("trainer", {})
    for budget in ("max_minutes", "max_cpu_seconds"):
        trainer.pop(budget, None)
    trainer["stop_at_step"] = recorded[seed]
    return Row(run.name, config)
