"""benchmarks/real/targets.py: issue 19's targets read from the committed reports, met only where
every interval lies above 0, and a shortfall stated by how much."""

from __future__ import annotations

import pytest

from tests.conftest import load_script


def test_a_target_is_met_only_when_every_interval_lies_above_zero() -> None:
    targets = load_script("benchmarks/real/targets.py")
    above = {"value": 0.3, "low": 0.1, "high": 0.5}
    reaches_zero = {"value": 0.2, "low": -0.1, "high": 0.5}
    below = {"value": -0.4, "low": -0.6, "high": -0.2}
    assert targets.met(above, above) == "met"
    assert targets.met(above, reaches_zero) == "short (not significant)"
    assert targets.met(reaches_zero, below) == "short by 0.40"
    assert targets.met(above, {"value": 0.3, "low": None, "high": None}) == "not computed"
    assert targets.interval(below) == "-0.40 [-0.60, -0.20]"


def test_the_committed_reports_give_one_line_per_stem_and_metric(monkeypatch, capsys) -> None:
    targets = load_script("benchmarks/real/targets.py")
    monkeypatch.setattr("sys.argv", ["targets.py"])
    targets.main()
    lines = capsys.readouterr().out.splitlines()
    falcon = [line for line in lines if line.startswith(("| vocals | 2", "| drums | 3", "| bass | 2", "| other | 2"))]
    assert len(falcon) == 4 and all(line.count("|") == 11 for line in falcon)
    baseline = [line for line in lines if line.startswith("| ") and "| csdr |" in line]
    assert len(baseline) == 4  # the baseline section's cSDR lines, one per stem
    assert all(("short" in line) != ("| met |" in line) for line in lines if line.startswith("| vocals | visqol |"))


def test_a_row_missing_from_a_report_is_named(monkeypatch) -> None:
    targets = load_script("benchmarks/real/targets.py")
    monkeypatch.setattr("sys.argv", ["targets.py", "--row", "no_such_row"])
    with pytest.raises(SystemExit, match="row 'no_such_row' is not in the report"):
        targets.main()
