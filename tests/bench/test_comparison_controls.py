"""A comparison says, per metric and stem, whether both rows beat their own mismatched control:
a difference between rows that score as well against another song's stems is not one of
separation."""

import math

from tokensep_core.bench.plots import write_plots
from tokensep_core.bench.report import comparisons_table, html_report
from tokensep_core.bench.summary import ComparisonSummary, GridSummary, RowSummary, own_controls
from tokensep_core.evaluation.controls import StemVerdict
from tokensep_core.evaluation.stats import Difference, Estimate

PASS = Estimate(0.5, 0.2, 0.8, 8)
FAIL = Estimate(0.1, -0.3, 0.4, 8)
UNKNOWN = Estimate(0.1, math.nan, math.nan, 1)


def _row(name: str, **by_stem: dict[str, Estimate]) -> RowSummary:
    row = RowSummary(name, "separator", "ok", None, {})
    row.verdicts = {stem: StemVerdict(dict(by_metric), songs=8) for stem, by_metric in by_stem.items()}
    return row


def _grid() -> GridSummary:
    a = _row("a", vocals={"visqol": PASS, "mel_distance": FAIL}, bass={"visqol": FAIL, "mel_distance": UNKNOWN})
    b = _row("b", vocals={"visqol": PASS, "mel_distance": PASS}, bass={"visqol": FAIL, "mel_distance": PASS})
    difference = Difference(0.3, 0.1, 0.5, wins=6, pairs=8)
    comparison = ComparisonSummary(
        "a", "b", differences={m: {"vocals": difference, "bass": difference} for m in ("visqol", "mel_distance")}
    )
    return GridSummary([a, b], ["visqol", "mel_distance"], ["vocals", "bass"], {"visqol": True, "mel_distance": False}, [comparison])


def test_each_comparison_names_the_rows_that_fail_their_own_control() -> None:
    grid = _grid()
    assert own_controls(grid, ("a", "b"), "visqol", "vocals") == "both pass"
    assert own_controls(grid, ("a", "b"), "mel_distance", "vocals") == "fails: a"
    assert own_controls(grid, ("a", "b"), "visqol", "bass") == "fails: a, b"
    assert own_controls(grid, ("a", "b"), "mel_distance", "bass") == "–"  # a's control has no interval
    assert own_controls(grid, ("a", "missing"), "visqol", "vocals") == "–"
    header, rows = comparisons_table(grid)
    assert header[-1] == "own controls"
    assert {(r[2], r[3]): r[-1] for r in rows} == {
        ("visqol", "vocals"): "both pass",
        ("visqol", "bass"): "fails: a, b",
        ("mel_distance", "vocals"): "fails: a",
        ("mel_distance", "bass"): "–",
    }


def test_the_html_report_flags_a_comparison_whose_rows_fail_their_controls() -> None:
    page = html_report(_grid(), plots={})
    assert '<td class="flagged">fails: a, b</td>' in page
    assert "<td>both pass</td>" in page


def test_each_comparison_gets_a_plot_inlined_in_the_report(tmp_path) -> None:
    grid = _grid()
    plots = write_plots(grid, tmp_path / "plots")
    [chart] = plots["comparisons"]
    assert chart.name == "compare_a_vs_b.png" and chart.read_bytes()[:4] == b"\x89PNG"
    page = html_report(grid, plots)
    comparisons = page.split("<h2>Comparisons</h2>")[1].split("<h2>Controls</h2>")[0]
    assert comparisons.count("data:image/png;base64,") == 1
