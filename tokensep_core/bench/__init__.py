"""``tokensep bench GRID.yaml``: train/load and evaluate a grid of separators, then report
(tables with intervals, plots, one HTML file). See docs/benchmarks.md."""

from tokensep_core.bench.grid import GridConfig, load_grid
from tokensep_core.bench.provenance import grid_provenance
from tokensep_core.bench.report import write_report
from tokensep_core.bench.runner import GridRun, run_grid
from tokensep_core.bench.summary import GridSummary, summarize

__all__ = ["GridConfig", "GridRun", "GridSummary", "grid_provenance", "load_grid", "run_grid", "summarize", "write_report"]
