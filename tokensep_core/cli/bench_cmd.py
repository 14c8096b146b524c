"""``tokensep bench GRID.yaml [-o OUT]``: run (or resume) a benchmark grid and write its report
(``--report-only``: write the report from the stored results, running nothing)."""

from __future__ import annotations

import argparse
import shlex
from pathlib import Path

from tokensep_core.bench import grid_provenance, run_grid, summarize, write_report
from tokensep_core.bench.replay import recorded_steps
from tokensep_core.errors import ConfigError


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("grid", metavar="GRID", help="grid file (YAML/TOML/JSON; see docs/benchmarks.md)")
    parser.add_argument("-o", "--out", help="output folder (default: bench-out/<grid name>); re-running resumes it")
    parser.add_argument(
        "--rows",
        metavar="ROW[,ROW…]",
        help="run only these rows (e.g. two processes on one output folder, one grid split over sessions); "
        "the report shows the others' stored results, or 'not run yet'",
    )
    parser.add_argument(
        "--report-only",
        action="store_true",
        help="run nothing: write the report from the stored results (a run still in progress elsewhere, or not run, is reported as such)",
    )
    parser.add_argument(
        "--steps-from",
        metavar="RESULTS.json",
        help="replay a report's training by steps: stop each trained run at the step it stopped at there (its time or CPU "
        "budget dropped, the schedule kept), so a CPU-budgeted grid re-runs the same steps on any machine; use a new -o folder",
    )


def run(args: argparse.Namespace) -> int:
    if args.report_only and (args.rows or args.steps_from):
        raise ConfigError(f"--report-only runs no row, so {'--rows' if args.rows else '--steps-from'} cannot apply")
    out = Path(args.out) if args.out else Path("bench-out") / Path(args.grid).stem
    only = [name.strip() for name in args.rows.split(",") if name.strip()] if args.rows else None
    command = f"tokensep bench {shlex.quote(args.grid)} -o {shlex.quote(str(out))}" + (f" --rows {','.join(only)}" if only else "")
    command += f" --steps-from {shlex.quote(args.steps_from)}" if args.steps_from else ""
    if args.report_only:
        only, command = [], command + " --report-only"
    steps_from = recorded_steps(args.steps_from) if args.steps_from else None
    grid_run = run_grid(args.grid, out, only=only, steps_from=steps_from)
    summary = summarize(grid_run.results, [(c.a, c.b) for c in grid_run.grid.comparisons])
    paths = write_report(summary, out, grid_provenance(grid_run.grid, command))
    failed = [r for r in summary.rows if r.status == "failed"]
    print(paths["results.md"].read_text())
    print(
        f"tokensep: {len(grid_run.ran)} rows run, {len(grid_run.skipped)} already done, {len(failed)} failed; report {paths['report.html']}"
    )
    return 1 if failed else 0
