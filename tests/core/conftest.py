"""Fixtures for core tests: fake installed plugin distributions (dist-info + module)."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

import pytest


def install_fake_distribution(site: Path, dist: str, module: str, source: str, version: str = "1.0") -> None:
    """Write ``module.py`` and a ``dist-info`` declaring it as a ``tokensep`` entry point into ``site``."""
    (site / f"{module}.py").write_text(textwrap.dedent(source))
    info = site / f"{dist.replace('-', '_')}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {dist}\nVersion: {version}\n")
    (info / "entry_points.txt").write_text(f"[tokensep]\n{module} = {module}\n")


@pytest.fixture
def fake_distribution() -> Callable[..., None]:
    return install_fake_distribution
