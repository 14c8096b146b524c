"""A grid's report: ``results.md``, ``results.csv``, ``results.json``, ``plots/*.png`` and one
self-contained ``report.html`` (plots inlined as base64, tables, every row's exact config).
Every finished row comes with its mismatched-reference control (``ROW (mismatched)``), and the
controls table gives each stem's input dependence and verdict (tokensep_core.evaluation.controls)."""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Sequence
from pathlib import Path

from tokensep_core.bench.plots import write_plots
from tokensep_core.bench.summary import MEAN, GridSummary, RowSummary
from tokensep_core.evaluation.controls import DOES_NOT_USE
from tokensep_core.evaluation.machine import machine_line
from tokensep_core.evaluation.stats import Estimate
from tokensep_core.evaluation.tables import csv_text, fmt, markdown_table, write_json, write_text


def cell(estimate: Estimate | None) -> str:
    """``value [low, high]``; the interval only where it is defined."""
    if estimate is None:
        return "–"
    if math.isnan(estimate.low):
        return fmt(estimate.value, 2)
    return f"{fmt(estimate.value, 2)} [{fmt(estimate.low, 2)}, {fmt(estimate.high, 2)}]"


def _arrow(summary: GridSummary, metric: str) -> str:
    return "↑" if summary.higher_is_better.get(metric, True) else "↓"


def cost_table(summary: GridSummary) -> tuple[list[str], list[list[str]]]:
    header = ["row", "kind", "status", "train steps", "train min", "RTF", "threads", "peak MiB", "error"]
    rows = [
        [
            r.name,
            r.kind,
            r.status,
            str(r.training.get("steps", "–")),
            fmt(r.training.get("minutes"), 2),
            fmt(r.real_time_factor, 4),
            str(r.machine.get("threads", "–")),
            fmt(r.peak_rss_mib, 0),
            r.error or "",
        ]
        for r in summary.rows
    ]
    return header, rows


def metric_table(summary: GridSummary, metric: str) -> tuple[list[str], list[list[str]]]:
    """One line per finished row, each followed by its mismatched control where it has one."""
    header = ["row", *summary.stems, MEAN]
    rows = []
    for r in summary.rows:
        if not r.ok:
            continue
        rows.append([r.name, *(cell(r.estimates.get(metric, {}).get(s)) for s in [*summary.stems, MEAN])])
        if metric in r.mismatched:
            rows.append([r.mismatched_name, *(cell(r.mismatched[metric].get(s)) for s in [*summary.stems, MEAN])])
    return header, rows


def controls_table(summary: GridSummary) -> tuple[list[str], list[list[str]]]:
    """Per finished row and stem: input dependence, the oriented matched − mismatched difference
    of each metric [95% interval], and the verdict."""
    header = ["row", "stem", "input dependence", *(f"Δ {m}" for m in summary.metrics), "verdict"]
    rows = []
    for r in summary.rows:
        for stem, verdict in r.verdicts.items() if r.ok else ():
            differences = [cell(verdict.differences.get(m)) if m in verdict.differences else "–" for m in summary.metrics]
            rows.append([r.name, stem, fmt(r.input_dependence.get(stem), 2), *differences, verdict.text])
    return header, rows


CONTROLS_NOTE = (
    "ROW (mismatched): each song's estimates scored against the next song's references (song i against song i+1 mod n, "
    "both trimmed to the shorter). Input dependence: how much the outputs differ between songs relative to the references "
    "(~0: the output ignores the input; the oracle: 1). Δ: per-song score minus mismatched score, oriented so that positive "
    "is better, aggregated over songs [95% bootstrap interval]; a stem uses the mixture when every Δ interval lies above 0."
)


def long_rows(summary: GridSummary) -> list[list[object]]:
    """One CSV row per (row, metric, stem) with the aggregate, interval and song count; the
    mismatched control of a row as the row ``ROW (mismatched)``."""
    out: list[list[object]] = []
    for row in summary.rows:
        for name, estimates in ((row.name, row.estimates), (row.mismatched_name, row.mismatched)):
            for metric, by_stem in estimates.items():
                for stem, e in by_stem.items():
                    out.append([name, metric, stem, e.value, e.low, e.high, e.n, row.real_time_factor, row.peak_rss_mib])
    return out


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


def markdown(summary: GridSummary, command: str) -> str:
    parts = ["# Benchmark results\n"]
    if command:
        parts.append(f"Command: `{command}`\n")
    parts.append(
        "Cells: aggregate over songs (cSDR median, others mean) [95% bootstrap interval]; "
        "`mean`: the mean over stems. RTF: separation time / audio time.\n"
    )
    parts.append("## Rows\n")
    parts.append(markdown_table(*cost_table(summary)))
    parts.append(machines_note(summary))
    for metric in summary.metrics:
        parts.append(f"\n## {metric} {_arrow(summary, metric)}\n")
        parts.append(markdown_table(*metric_table(summary, metric)))
    parts.append("\n## Controls\n")
    parts.append(CONTROLS_NOTE + "\n")
    parts.append(markdown_table(*controls_table(summary)))
    return "\n".join(parts)


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(_html_cell(str(c)) for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _html_cell(text: str) -> str:
    """A table cell; a failed control stands out."""
    flagged = ' class="flagged"' if text.startswith(DOES_NOT_USE) else ""
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


def html_report(summary: GridSummary, plots: dict[str, list[Path]], command: str) -> str:
    parts = [
        f"<!DOCTYPE html><html><head><meta charset='utf-8'><title>tokensep benchmark</title><style>{STYLE}</style></head><body>",
        "<h1>tokensep benchmark</h1>",
    ]
    if command:
        parts.append(f"<p>Command: <code>{html.escape(command)}</code></p>")
    parts.append(
        "<p>Cells: aggregate over songs (cSDR median, others mean) [95% bootstrap interval]; "
        "<i>mean</i>: the mean over stems. RTF: separation time / audio time.</p>"
    )
    parts.append("<h2>Rows</h2>" + _html_table(*cost_table(summary)))
    parts.append("<p>" + html.escape(machines_note(summary).strip()).replace("\n", "<br>") + "</p>")
    for metric in summary.metrics:
        parts.append(f"<h2>{html.escape(metric)} {_arrow(summary, metric)}</h2>" + _html_table(*metric_table(summary, metric)))
        parts.extend(_img(path) for path in plots.get(metric, []))
    parts.append("<h2>Controls</h2><p>" + html.escape(CONTROLS_NOTE) + "</p>" + _html_table(*controls_table(summary)))
    parts.append("<h2>Configs</h2><p>The exact resolved config of every row.</p>")
    parts.extend(_config_block(row) for row in summary.rows)
    parts.append("</body></html>")
    return "\n".join(parts)


def write_report(summary: GridSummary, out: Path, command: str = "") -> dict[str, Path]:
    """Write every output of a grid into ``out``; -> paths by name."""
    plots = write_plots(summary, out / "plots")
    header = ["row", "metric", "stem", "value", "ci_low", "ci_high", "songs", "rtf", "peak_rss_mib"]
    rows_json = [
        {
            "row": r.name,
            "kind": r.kind,
            "status": r.status,
            "error": r.error,
            "training": r.training,
            "real_time_factor": r.real_time_factor,
            "peak_rss_mib": r.peak_rss_mib,
            "machine": r.machine,
            "config": r.config,
            "estimates": {m: {s: vars(e) for s, e in by_stem.items()} for m, by_stem in r.estimates.items()},
            "mismatched": {m: {s: vars(e) for s, e in by_stem.items()} for m, by_stem in r.mismatched.items()},
            "input_dependence": r.input_dependence,
            "controls": {stem: verdict.to_dict() for stem, verdict in r.verdicts.items()},
        }
        for r in summary.rows
    ]
    return {
        "results.md": write_text(out / "results.md", markdown(summary, command)),
        "results.csv": write_text(out / "results.csv", csv_text(header, long_rows(summary))),
        "results.json": write_json(
            out / "results.json", {"command": command, "metrics": summary.metrics, "stems": summary.stems, "rows": rows_json}
        ),
        "report.html": write_text(out / "report.html", html_report(summary, plots, command)),
    }
