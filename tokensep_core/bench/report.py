"""A grid's report: ``results.md``, ``results.csv``, ``results.json``, ``plots/*.png`` and one
self-contained ``report.html`` (plots inlined as base64, tables, every row's exact config)."""

from __future__ import annotations

import base64
import html
import json
import math
from collections.abc import Sequence
from pathlib import Path

from tokensep_core.bench.plots import write_plots
from tokensep_core.evaluation.stats import Estimate
from tokensep_core.bench.summary import MEAN, GridSummary, RowSummary
from tokensep_core.evaluation.machine import machine_line
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
    header = ["row", *summary.stems, MEAN]
    rows = [[r.name, *(cell(r.estimates.get(metric, {}).get(s)) for s in [*summary.stems, MEAN])] for r in summary.rows if r.ok]
    return header, rows


def long_rows(summary: GridSummary) -> list[list[object]]:
    """One CSV row per (row, metric, stem) with the aggregate, interval and song count."""
    out: list[list[object]] = []
    for row in summary.rows:
        for metric, by_stem in row.estimates.items():
            for stem, e in by_stem.items():
                out.append([row.name, metric, stem, e.value, e.low, e.high, e.n, row.real_time_factor, row.peak_rss_mib])
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
    return "\n".join(parts)


def _html_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    head = "".join(f"<th>{html.escape(h)}</th>" for h in header)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in row) + "</tr>" for row in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _img(path: Path) -> str:
    data = base64.b64encode(path.read_bytes()).decode("ascii")
    return f'<img alt="{html.escape(path.stem)}" src="data:image/png;base64,{data}">'


def _config_block(row: RowSummary) -> str:
    text = json.dumps(row.config, indent=2, sort_keys=True)
    return f"<details><summary>{html.escape(row.name)} ({html.escape(row.kind)}, {html.escape(row.status)})</summary><pre>{html.escape(text)}</pre></details>"


STYLE = """body{font-family:system-ui,sans-serif;margin:2em;max-width:1200px}table{border-collapse:collapse;margin:1em 0}
td,th{border:1px solid #ccc;padding:3px 8px;font-size:13px;text-align:left}th{background:#f3f3f3}img{max-width:100%;margin:.5em 0}
pre{background:#f7f7f7;padding:1em;overflow:auto;font-size:12px}code{background:#f3f3f3;padding:1px 4px}"""


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
