"""Where a grid's numbers come from: the command, tokensep's code version (git commit), the
machine, the seeds and the budgets; the report adds each row's training compute."""

from __future__ import annotations

from typing import Any

from tokensep_core.bench.grid import GridConfig
from tokensep_core.code_version import code_version
from tokensep_core.evaluation.machine import describe_machine
from tokensep_core.runtime.device import resolve_device


def grid_provenance(grid: GridConfig, command: str) -> dict[str, Any]:
    """``{command, code_version, machine, seeds, budget, codec_budget, mismatched_offset[, row_budgets]}`` of this
    process: the machine as :func:`describe_machine` records it, with the device ``auto`` picks here."""
    return {
        "command": command,
        "code_version": code_version(),
        "machine": describe_machine(resolve_device("auto")),
        "seeds": grid.seeds,
        "budget": grid.budget.model_dump(exclude_none=True) if grid.budget is not None else {},
        "codec_budget": grid.codec_budget.model_dump(exclude_none=True) if grid.codec_budget else None,
        "mismatched_offset": grid.mismatched_offset,
        **({"row_budgets": row_budgets} if (row_budgets := _row_budgets(grid)) else {}),
    }


def _row_budgets(grid: GridConfig) -> dict[str, dict[str, Any]]:
    """``{baseline: budget}`` of the trained baselines with their own budget."""
    return {b.name: b.budget.model_dump(exclude_none=True) for b in grid.baselines if b.budget is not None}
