"""Shared fixtures: the repository root and the shared data folder beside it."""

from __future__ import annotations

from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DATA = REPO_ROOT.parent / "shared" / "data"
REAL_TRACK = SHARED_DATA / "real" / "The Easton Ellises - Falcon 69"


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO_ROOT


@pytest.fixture(scope="session")
def real_track() -> Path:
    """The real MUSDB18 excerpt shipped in ../shared/data (skip when it is absent)."""
    if not (REAL_TRACK / "mixture.wav").exists():
        pytest.skip(f"real track not found at {REAL_TRACK}")
    return REAL_TRACK
