"""tokensep_core.testing as a plugin author uses it: without pytest, and with one-line
ConformanceErrors for a metric that lacks what the Metric interface declares."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import pytest
import torch

from tokensep_core.plugins import AUTOLOAD_ENV
from tokensep_core.testing import ConformanceError, check_metric

WITHOUT_PYTEST = textwrap.dedent(
    """
    import sys
    sys.modules["pytest"] = None  # any import of pytest now fails
    from tokensep_core.testing import ConformanceError, check_registered
    check_registered("codec", "debug")
    check_registered("metric", "si_sdr")
    print("conformant")
    """
)


def test_the_conformance_suite_runs_without_pytest() -> None:
    env = {**os.environ, AUTOLOAD_ENV: "1"}
    result = subprocess.run([sys.executable, "-c", WITHOUT_PYTEST], capture_output=True, text=True, env=env)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.strip() == "conformant"


class _Nameless:
    """Callable like a metric, but without ``name``."""

    higher_is_better = True

    def __call__(self, reference: torch.Tensor, estimate: torch.Tensor, sample_rate: int) -> float:
        return -float((reference - estimate).abs().mean())


class _Undirected(_Nameless):
    name = "undirected"
    higher_is_better = None


def test_check_metric_names_the_missing_attribute() -> None:
    with pytest.raises(ConformanceError, match=r"^metric _Nameless lacks a str attribute 'name'"):
        check_metric(_Nameless())
    with pytest.raises(ConformanceError, match=r"^metric _Undirected lacks a bool attribute 'higher_is_better'$"):
        check_metric(_Undirected())
