"""A grid's report: ``results.md``, ``results.csv``, ``results.json``, ``scores.csv`` (every
per-song score), ``plots/*.png`` and one self-contained ``report.html`` (plots inlined as base64,
tables, every row's exact config).
Every finished row comes with its mismatched-reference control (``ROW (mismatched)``), the
comparisons table gives each declared comparison's paired differences, the controls table each
stem's input dependence and verdict (tokensep_core.evaluation.controls), and the provenance block
the command, code version, machine, seeds, budgets and each row's training compute."""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tokensep_core.bench.plots import write_plots
from tokensep_core.bench.summary import FAILS_CONTROL, MEAN, GridSummary, RowSummary, own_controls
from tokensep_core.evaluation.controls import DOES_NOT_USE, earlier_estimates, pairing_text
from tokensep_core.evaluation.machine import machine_line
from tokensep_core.evaluation.stats import Difference, Estimate
from tokensep_core.evaluation.tables import csv_text, fmt, markdown_table, run_provenance_lines, write_json, write_text


def cell(estimate: Estimate | Difference | None) -> str:
    """``value [low, high]``; the interval only where it is defined."""
    if estimate is None:
        return "–"
    if math.isnan(estimate.low):
        return fmt(estimate.value, 2)
    return f"{fmt(estimate.value, 2)} [{fmt(estimate.low, 2)}, {fmt(estimate.high, 2)}]"


def spread(estimate: Estimate | None) -> str:
    """``S seeds: min–max`` of the per-seed aggregates; '–' with fewer than 2 seeds."""
    if estimate is None or estimate.seeds < 2:
        return "–"
    return f"{estimate.seeds} seeds: {fmt(estimate.seed_min, 2)}–{fmt(estimate.seed_max, 2)}"


def _arrow(summary: GridSummary, metric: str) -> str:
    return "↑" if summary.higher_is_better.get(metric, True) else "↓"


def cost_table(summary: GridSummary) -> tuple[list[str], list[list[str]]]:
    header = ["row", "kind", "status", "train steps", "train min", "RTF", "CPU share", "threads", "peak MiB", "error"]
    rows = [
        [
            r.name,
            r.kind,
            r.status,
            "/".join(dict.fromkeys(str(t["steps"]) for t in r.training if "steps" in t)) or "–",
            fmt(sum(t.get("minutes", 0.0) for t in r.training), 2) if r.training else "–",
            fmt(r.real_time_factor, 4),
            fmt(r.cpu_share, 2),
            str(r.machine.get("threads", "–")),
            fmt(r.peak_rss_mib, 0),
            r.error or "",
        ]
        for r in summary.rows
    ]
    return header, rows


def metric_table(summary: GridSummary, metric: str) -> tuple[list[str], list[list[str]]]:
    """One line per finished row, each followed by its mismatched control where it has one; the
    last column: the spread of the per-seed means over stems."""
    header = ["row", *summary.stems, MEAN, "per-seed mean"]
    rows = []
    for r in summary.rows:
        if not r.scored:
            continue
        by_stem = r.estimates.get(metric, {})
        rows.append([r.name, *(cell(by_stem.get(s)) for s in [*summary.stems, MEAN]), spread(by_stem.get(MEAN))])
        if metric in r.mismatched:
            control = r.mismatched[metric]
            rows.append([r.mismatched_name, *(cell(control.get(s)) for s in [*summary.stems, MEAN]), spread(control.get(MEAN))])
    return header, rows


def comparisons_table(summary: GridSummary) -> tuple[list[str], list[list[str]]]:
    """Per declared comparison, metric and stem: the mean paired difference [95% interval], a's
    wins of the pairs, where the interval lies and whether both rows beat their own controls."""
    header = ["a", "b", "metric", "stem", "Δ [95% interval]", "a better", "interval", "own controls"]
    rows = []
    for c in summary.comparisons:
        if c.error:
            rows.append([c.a, c.b, "–", "–", c.error, "–", "–", "–"])
        for metric, by_stem in c.differences.items():
            for stem, d in by_stem.items():
                controls = own_controls(summary, (c.a, c.b), metric, stem)
                rows.append([c.a, c.b, metric, stem, cell(d), f"{d.wins}/{d.pairs}", _side(d), controls])
    return header, rows


def _side(difference: Difference) -> str:
    if math.isnan(difference.low):
        return "–"
    if difference.excludes_zero:
        return "above 0" if difference.low > 0 else "below 0"
    return "contains 0"


COMPARISONS_NOTE = (
    "Δ: a's score minus b's (b's minus a's for a lower-is-better metric, so positive means a is better), paired by song "
    "and seed and averaged over the pairs [95% two-level bootstrap interval: seeds, then songs, resampled]; a row whose "
    "output does not depend on the seed pairs with every seed of the other. a better: the pairs where a scored better, "
    "of all pairs. interval: above 0 / below 0 when it excludes 0. own controls: whether each row's score on this metric "
    "and stem beats its own mismatched control (Controls below); a row that fails it scores about as well against another "
    "song's stems, so on that metric the difference tells how its output sounds more than whether it follows the song."
)


def controls_table(summary: GridSummary) -> tuple[list[str], list[list[str]]]:
    """Per finished row and stem: input dependence, the oriented matched − mismatched difference
    of each metric [95% interval], and the verdict."""
    header = ["row", "stem", "input dependence", *(f"Δ {m}" for m in summary.metrics), "verdict"]
    rows = []
    for r in summary.rows:
        for stem, verdict in r.verdicts.items() if r.scored else ():
            differences = [cell(verdict.differences.get(m)) if m in verdict.differences else "–" for m in summary.metrics]
            rows.append([r.name, stem, fmt(r.input_dependence.get(stem), 2), *differences, verdict.text])
    return header, rows


def controls_note(summary: GridSummary) -> str:
    """The note above the controls table, with the mismatched offset k the rows' evaluations used
    (each row's when they differ; 1 when no row has scores)."""
    offsets: dict[int, list[str]] = {}
    for r in summary.rows:
        if r.scored and r.mismatched_offset is not None:
            offsets.setdefault(r.mismatched_offset, []).append(r.name)
    if len(offsets) > 1:
        per_row = "; ".join(f"k = {k} for {', '.join(names)}" for k, names in sorted(offsets.items()))
        pairing = f"the references of the song k places later (song i against song i+k mod n, {per_row}; "
        earlier = "the estimates of the song k places earlier"
    else:
        k = next(iter(offsets), 1)
        pairing, earlier = f"{pairing_text(k)} (song i against song i+{k} mod n, ", earlier_estimates(k)
    return (
        f"ROW (mismatched): each song's estimates scored against {pairing}"
        "both trimmed to the shorter). Input dependence: how much the outputs differ between songs relative to the references "
        f"(~0: the output ignores the input; the oracle: 1). Δ: against each song's references, its own estimates' score minus the "
        f"score of {earlier}, oriented so that positive is better, aggregated over songs and seeds [95% bootstrap "
        "interval]; a stem uses the mixture when every judged Δ interval lies above 0. A token row whose output is its codec's own (mixture_consistency off), with its codec's "
        "oracle in the grid (the same codec checkpoint), is judged only on the metrics that oracle beats its own control on: a metric the "
        "ceiling fails cannot tell separation from an output that ignores the mixture (the verdict names those not judged)."
    )


def long_rows(summary: GridSummary) -> list[list[object]]:
    """One CSV row per (row, metric, stem) with the aggregate, interval, song and seed counts and
    the per-seed spread; the mismatched control of a row as the row ``ROW (mismatched)``."""
    out: list[list[object]] = []
    for row in summary.rows:
        for name, estimates in ((row.name, row.estimates), (row.mismatched_name, row.mismatched)):
            for metric, by_stem in estimates.items():
                for stem, e in by_stem.items():
                    out.append(
                        [
                            name,
                            metric,
                            stem,
                            e.value,
                            e.low,
                            e.high,
                            e.n,
                            e.seeds,
                            e.seed_min,
                            e.seed_max,
                            row.real_time_factor,
                            row.peak_rss_mib,
                        ]
                    )
    return out


def score_rows(summary: GridSummary) -> list[list[object]]:
    """Every per-song score behind the tables, one line per (row, reference, seed, song, metric,
    stem): what a reader needs to recompute any estimate or comparison once the runs' own files
    (the git-ignored ``rows/``) are gone."""
    lines: list[list[object]] = []
    for row in summary.rows:
        for reference, scores in (("own", row.scores), ("mismatched", row.mismatched_scores)):
            for metric, by_stem in scores.items():
                for stem, cells in by_stem.items():
                    for seed, by_song in cells.items():
                        lines.extend(
                            [row.name, reference, "" if seed is None else seed, song, metric, stem, value]
                            for song, value in by_song.items()
                        )
    return lines


def machines_note(summary: GridSummary) -> str:
    """Where the rows' times were measured: one line, or one per machine when they differ
    (a resumed grid can hold rows from several runs; their RTFs compare only with care)."""
    rows_by_machine: dict[str, list[str]] = {}
    for row in summary.rows:
        if row.machine:
            rows_by_machine.setdefault(machine_line(row.machine), []).append(row.name)
    if len(rows_by_machine) <= 1:
        return "".join(f"\nMachine: {line}.\n" for line in rows_by_machine)
    return "\nMachines (RTFs compare only within one):\n\n" + "".join(
        f"- {line}: {', '.join(names)}\n" for line, names in rows_by_machine.items()
    )


Provenance = dict[str, Any]
"""What :func:`tokensep_core.bench.provenance.grid_provenance` records (command, code version, …)."""

CELLS_NOTE = (
    "Cells: aggregate over songs and seeds (cSDR median, others mean) [95% two-level bootstrap interval: seeds, then songs, "
    "resampled]; `mean`: the mean over stems; per-seed mean: the smallest and largest of the per-seed means over stems. "
    "RTF: separation time / audio time. CPU share: the process's CPU time while it separated over wall time times its "
    "threads; well below 1 on a CPU run, it waited for a core another process held, and its RTF overstates ('–': not kept)."
)


def provenance_lines(provenance: Provenance) -> list[str]:
    """The provenance block as ``label: text`` lines (no training compute: :func:`compute_table`)."""
    own = provenance.get("row_budgets", {})
    budget = ", ".join(f"{k} {v}" for k, v in provenance["budget"].items()) or ("none" if own else "none (no row trains)")
    offset = provenance.get("mismatched_offset", 1)
    codec_budget = provenance.get("codec_budget")
    if codec_budget:
        budget += "; codecs: " + ", ".join(f"{k} {v}" for k, v in codec_budget.items())
    for row, row_budget in own.items():
        budget += f"; {row}: " + ", ".join(f"{k} {v}" for k, v in row_budget.items())
    return [
        *run_provenance_lines(provenance),
        f"Seeds: {', '.join(str(s) for s in provenance['seeds'])} (each trained row trains once per seed)",
        f"Budget: {budget}",
        f"Mismatched offset: {offset} (song i's estimates against song i+{offset} mod n's references)",
    ]


BUDGET_UNITS = {"steps": "steps", "stop_at_step": "steps (stop)", "max_minutes": "min", "max_cpu_seconds": "CPU s"}


def budget_text(budget: dict[str, float]) -> str:
    """A run's training budget as given to its trainer: ``500 steps, 118.3 CPU s``."""
    return ", ".join(f"{budget[key]:g} {unit}" for key, unit in BUDGET_UNITS.items() if key in budget)


def compute_table(summary: GridSummary) -> tuple[list[str], list[list[str]]]:
    """Per row: its runs, device, the training compute it used (its own training summed over
    seeds, and the grid codecs it uses) and the budget its trainer was given (each distinct one)."""
    header = ["row", "runs", "device", "train wall s", "train CPU s", "codec wall s", "codec CPU s", "budget"]
    rows = []
    for r in summary.rows:
        compute = r.compute
        own = [fmt(compute["training"][k], 1) if r.training else "–" for k in ("wall_seconds", "cpu_seconds")]
        codecs = [fmt(compute["codecs"][k], 1) if r.codec_compute else "–" for k in ("wall_seconds", "cpu_seconds")]
        budget = " / ".join(dict.fromkeys(budget_text(t["budget"]) for t in r.training if "budget" in t)) or "–"
        rows.append([r.name, str(len(r.seeds)) if r.seeds else "–", r.machine.get("device", "–"), *own, *codecs, budget])
    return header, rows


COMPUTE_NOTE = (
    "Training compute: wall and CPU seconds of the training steps behind each model (every thread of the bench process; "
    "data-loader workers not counted), summed over seeds and resumes, as the trainer keeps them in the checkpoint; codec: the "
    "grid codecs the row uses, trained once and shared. Budget: what the row's trainer was given; a CPU-seconds budget is "
    "the grid's less the codec CPU s."
)


def markdown(summary: GridSummary, provenance: Provenance | None = None) -> str:
    parts = ["# Benchmark results\n"]
    if provenance:
        parts.append(f"Command: `{provenance['command']}`\n")
    parts.append(CELLS_NOTE + "\n")
    parts.append("## Rows\n")
    parts.append(markdown_table(*cost_table(summary)))
    parts.append(machines_note(summary))
    for metric in summary.metrics:
        parts.append(f"\n## {metric} {_arrow(summary, metric)}\n")
        parts.append(markdown_table(*metric_table(summary, metric)))
    if summary.comparisons:
        parts.append("\n## Comparisons\n")
        parts.append(COMPARISONS_NOTE + "\n")
        parts.append(markdown_table(*comparisons_table(summary)))
    parts.append("\n## Controls\n")
    parts.append(controls_note(summary) + "\n")
    parts.append(markdown_table(*controls_table(summary)))
    if provenance:
        parts.append("\n## Provenance\n")
        parts.append("".join(f"- {line}\n" for line in provenance_lines(provenance)))
        parts.append(COMPUTE_NOTE + "\n")
        parts.append(markdown_table(*compute_table(summary)))
    return "\n".join(parts)


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(_html_cell(str(c)) for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html_cell(text: str) -> str:
    """A table cell; a failed control stands out."""
    flagged = ' class="flagged"' if text.startswith((DOES_NOT_USE, FAILS_CONTROL)) else ""
    return f"<td{flagged}>{html.escape(text)}</td>"


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def _config_block(row: RowSummary) -> str:
    text = json.dumps(row.config, indent=2, sort_keys=True)
    return f"<details><summary>{html.escape(row.name)} ({html.escape(row.kind)}, {html.escape(row.status)})</summary><pre>{html.escape(text)}</pre></details>"


STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left}th{background:#f3f3f3}img{max-width:100%;margin:.5em 0}
pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:12px}code{background:#f3f3f3;padding:1px 4px}
td.flagged{color:#b00;font-weight:bold}"""


def html_report(summary: GridSummary, plots: dict[str, list[Path]], provenance: Provenance | None = None) -> str:
    parts = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>tokensep benchmark</title><style>{STYLE}</style></head><body>",
        "<h1>tokensep benchmark</h1>",
    ]
    if provenance:
        parts.append(f"<p>Command: <code>{html.escape(provenance['command'])}</code></p>")
    parts.append("<p>" + html.escape(CELLS_NOTE) + "</p>")
    parts.append("<h2>Rows</h2>" + _html_table(*cost_table(summary)))
    parts.append("<p>" + html.escape(machines_note(summary).strip()).replace("\n", "<br>") + "</p>")
    for metric in summary.metrics:
        parts.append(f"<h2>{html.escape(metric)} {_arrow(summary, metric)}</h2>" + _html_table(*metric_table(summary, metric)))
        parts.extend(_img(path) for path in plots.get(metric, []))
    if summary.comparisons:
        parts.append("<h2>Comparisons</h2><p>" + html.escape(COMPARISONS_NOTE) + "</p>")
        parts.extend(_img(path) for path in plots.get("comparisons", []))
        parts.append(_html_table(*comparisons_table(summary)))
    parts.append("<h2>Controls</h2><p>" + html.escape(controls_note(summary)) + "</p>" + _html_table(*controls_table(summary)))
    if provenance:
        items = "".join(f"<li>{html.escape(line)}</li>" for line in provenance_lines(provenance))
        parts.append(f"<h2>Provenance</h2><ul>{items}</ul><p>{html.escape(COMPUTE_NOTE)}</p>" + _html_table(*compute_table(summary)))
    parts.append("<h2>Configs</h2><p>The exact resolved config of every row.</p>")
    parts.extend(_config_block(row) for row in summary.rows)
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(summary: GridSummary, out: Path, provenance: Provenance | None = None) -> dict[str, Path]:
    """Write every output of a grid into ``out``; -> paths by name. ``provenance`` (command, code
    version, machine, seeds, budgets) gets each row's training compute added in ``results.json``."""
    plots = write_plots(summary, out / "plots")
    header = ["row", "metric", "stem", "value", "ci_low", "ci_high", "songs", "seeds", "seed_min", "seed_max", "rtf", "peak_rss_mib"]
    rows_json = [
        {
            "row": r.name,
            "kind": r.kind,
            "status": r.status,
            "error": r.error,
            "seeds": r.seeds,
            "training": r.training,
            "compute": r.compute,
            "real_time_factor": r.real_time_factor,
            "peak_rss_mib": r.peak_rss_mib,
            "machine": r.machine,
            "config": r.config,
            "estimates": {m: {s: vars(e) for s, e in by_stem.items()} for m, by_stem in r.estimates.items()},
            "mismatched": {m: {s: vars(e) for s, e in by_stem.items()} for m, by_stem in r.mismatched.items()},
            "input_dependence": r.input_dependence,
            "mismatched_offset": r.mismatched_offset,
            "controls": {stem: verdict.to_dict() for stem, verdict in r.verdicts.items()},
        }
        for r in summary.rows
    ]
    comparisons_json = [
        {
            "a": c.a,
            "b": c.b,
            "error": c.error,
            "seed_pairs": c.pairs,
            "differences": {
                m: {
                    s: {**vars(d), "excludes_zero": d.excludes_zero, "own_controls": own_controls(summary, (c.a, c.b), m, s)}
                    for s, d in by_stem.items()
                }
                for m, by_stem in c.differences.items()
            },
        }
        for c in summary.comparisons
    ]
    record = {**provenance, "compute": {r.name: r.compute for r in summary.rows}} if provenance else None
    data = {"metrics": summary.metrics, "stems": summary.stems, "provenance": record, "comparisons": comparisons_json, "rows": rows_json}
    return {
        "results.md": write_text(out / "results.md", markdown(summary, provenance)),
        "results.csv": write_text(out / "results.csv", csv_text(header, long_rows(summary))),
        "results.json": write_json(out / "results.json", data),
        "scores.csv": write_text(
            out / "scores.csv", csv_text(["row", "reference", "seed", "song", "metric", "stem", "value"], score_rows(summary))
        ),
        "report.html": write_text(out / "report.html", html_report(summary, plots, provenance)),
    }
