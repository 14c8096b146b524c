"""Which code produced a result: the git commit of the checkout tokensep runs from."""

from __future__ import annotations

import subprocess
from pathlib import Path

CODE_ROOT = Path(__file__).resolve().parents[1]
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
