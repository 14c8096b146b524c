"""Where a grid's numbers come from: the command, tokensep's code version (git commit), the
machine, the seeds and the budgets; the report adds each row's training compute."""

from __future__ import annotations

import subprocess
from pathlib import Path
from typing import Any

from tokensep_core.bench.grid import GridConfig
from tokensep_core.evaluation.machine import describe_machine
from tokensep_core.runtime.device import resolve_device

CODE_ROOT = Path(__file__).resolve().parents[2]
"""The folder holding the ``tokensep_core`` package: a git work tree when run from a checkout."""


def code_version(root: Path = CODE_ROOT) -> str:
    """``git rev-parse HEAD`` of the work tree ``root`` is the top of, with ``-dirty`` when
    ``git status --porcelain`` lists anything; ``unknown`` when ``root`` is not the top of a work
    tree (an installed package) or git cannot tell. Never raises."""
    try:
        top, commit = _git(root, "rev-parse", "--show-toplevel", "HEAD").splitlines()
        if Path(top).resolve() != root.resolve():
            return "unknown"
        return commit + ("-dirty" if _git(root, "status", "--porcelain").strip() else "")
    except (OSError, ValueError, subprocess.SubprocessError):
        return "unknown"


def _git(root: Path, *args: str) -> str:
    return subprocess.run(["git", *args], cwd=root, capture_output=True, text=True, check=True, timeout=60).stdout


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
