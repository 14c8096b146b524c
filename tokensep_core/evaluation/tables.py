"""Writing an :class:`Evaluation`: JSON for machines, per-song and summary tables in CSV and
Markdown, each with its provenance (command, code version, machine). Every file is written atomically."""

from __future__ import annotations

import csv
import io
import json
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from tokensep_core.audio.io import atomic_path
from tokensep_core.code_version import code_version
from tokensep_core.evaluation.controls import MIN_SONGS, earlier_estimates, pairing_text
from tokensep_core.evaluation.evaluate import Evaluation
from tokensep_core.evaluation.machine import machine_line


def write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically."""
    path = Path(path)
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return path


def write_json(path: str | Path, data: Any) -> Path:
    """Strict JSON: NaN as null, infinities as the strings "inf" / "-inf" (``float()`` reads them)."""
    return write_text(path, json.dumps(_finite(data), indent=2, allow_nan=False) + "\n")


def _finite(data: Any) -> Any:
    if isinstance(data, float):
        if math.isnan(data):
            return None
        return data if math.isfinite(data) else str(data)
    if isinstance(data, dict):
        return {k: _finite(v) for k, v in data.items()}
    if isinstance(data, (list, tuple)):
        return [_finite(v) for v in data]
    return data


def fmt(value: float | None, digits: int = 3) -> str:
    """A number for a table; NaN / None as an en dash."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "–"
    return f"{value:.{digits}f}"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines) + "\n"


def csv_text(header: Sequence[str], rows: Sequence[Sequence[Any]]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(header)
    writer.writerows(rows)
    return buffer.getvalue()


def metric_names(evaluation: Evaluation) -> list[str]:
    return [spec["name"] for spec in evaluation.metrics]


def summary_table(evaluation: Evaluation) -> tuple[list[str], list[list[float | str]]]:
    """Header ``stem, metric…`` and one row per stem of aggregated scores (NaN: not scored)."""
    metrics = metric_names(evaluation)
    summary = evaluation.summary()
    rows = [[stem, *(summary[stem].get(m, float("nan")) for m in metrics)] for stem in summary]
    return ["stem", *metrics], rows


def controls_table(evaluation: Evaluation) -> tuple[list[str], list[list[float | str]]]:
    """One row per stem and metric: matched and mismatched aggregates, the oriented paired
    difference with its interval, the stem's input dependence and verdict."""
    header = ["stem", "metric", "matched", "mismatched", "difference", "ci_low", "ci_high", "songs", "input_dependence", "verdict"]
    summary, control = evaluation.summary(), evaluation.summary(mismatched=True)
    rows: list[list[float | str]] = []
    for stem, verdict in evaluation.verdicts().items():
        for metric, e in verdict.differences.items():
            rows.append(
                [
                    stem,
                    metric,
                    summary[stem].get(metric, float("nan")),
                    control.get(stem, {}).get(metric, float("nan")),
                    e.value,
                    e.low,
                    e.high,
                    e.n,
                    evaluation.input_dependence.get(stem, float("nan")),
                    verdict.text,
                ]
            )
    return header, rows


def controls_markdown(evaluation: Evaluation) -> str:
    """The controls section of ``summary.md``: per stem, the mismatched-reference control of each
    metric, the input dependence and the verdict; one line instead with fewer than 2 songs."""
    songs = len(evaluation.song_scores())
    head = "\n## Controls\n\n"
    if songs < MIN_SONGS:
        return head + f"Not computed: the mismatched-reference control needs at least {MIN_SONGS} songs (got {songs}).\n"
    if not evaluation.mismatched:
        return head + "Not computed: this evaluation ran without controls.\n"
    metrics = metric_names(evaluation)
    control = evaluation.summary(mismatched=True)
    verdicts = evaluation.verdicts()
    header = ["stem", *(f"{m} mismatched" for m in metrics), "input dependence", "verdict"]
    rows = [
        [
            stem,
            *(fmt(control.get(stem, {}).get(m)) for m in metrics),
            fmt(evaluation.input_dependence.get(stem)),
            verdict.text,
        ]
        for stem, verdict in verdicts.items()
    ]
    k = evaluation.mismatched_offset
    return (
        head + f"Mismatched: each song's estimates scored against {pairing_text(k)} (song i against "
        f"song i+{k} mod n, both trimmed to the shorter). Input dependence: how much the outputs differ between songs "
        "relative to how much the references do (~0: the output ignores the input; the oracle: 1). A stem uses the "
        "mixture when, on every metric, the difference between the two scores against each song's references (its own "
        f"estimates' score minus that of {earlier_estimates(k)}) has a 95% bootstrap interval over songs above 0 (docs/metrics.md).\n\n"
        + markdown_table(header, rows)
    )


def codes_markdown(evaluation: Evaluation) -> str:
    """The generated codes' health beside the reference stems' codes (same codec), per stem and
    codebook; '' for a separator without codes."""
    if not evaluation.codes:
        return ""
    rows = []
    for stem, by_source in evaluation.codes.items():
        for generated, reference in zip(by_source.get("generated", []), by_source.get("reference", [])):
            rows.append(
                [
                    stem,
                    str(generated["codebook"]),
                    str(generated["used"]),
                    fmt(generated["perplexity"], 1),
                    str(reference["used"]),
                    fmt(reference["perplexity"], 1),
                ]
            )
    header = ["stem", "codebook", "generated ids used", "generated perplexity", "reference ids used", "reference perplexity"]
    return (
        "\n## Codes\n\nIds the LM generated over every song (first seed) beside the ids of the reference stems encoded by "
        "the same codec; a generator that collapses uses far fewer (perplexity: exp(entropy) of the id histogram).\n\n"
        + markdown_table(header, rows)
    )


def evaluation_provenance(command: str, machine: dict[str, Any]) -> dict[str, Any]:
    """``{command, code_version, machine}`` of an evaluation written now: the command that ran it
    ('' when not known), tokensep's code version (:func:`~tokensep_core.code_version.code_version`: git commit,
    ``-dirty`` when the tree is) and the machine its times were measured on (``describe_machine``)."""
    return {"command": command, "code_version": code_version(), "machine": machine}


def run_provenance_lines(provenance: dict[str, Any]) -> list[str]:
    """``label: text`` lines of what produced a result: command, code version, machine (torch,
    threads, device). A bench report's provenance block starts with them."""
    command = provenance["command"] or "not recorded (not run as `tokensep`)"
    return [
        f"Command: {command}",
        f"Code: tokensep {provenance['code_version']}",
        f"Machine: {machine_line(provenance['machine'])}",
    ]


def provenance_markdown(provenance: dict[str, Any]) -> str:
    """The ``## Provenance`` section of a ``summary.md`` (:func:`run_provenance_lines`)."""
    return "\n## Provenance\n\n" + "".join(f"- {line}\n" for line in run_provenance_lines(provenance))


def write_evaluation(evaluation: Evaluation, out_dir: str | Path, command: str = "") -> dict[str, Path]:
    """``results.json``, ``scores.csv`` (one row per song, seed, stem and metric),
    ``summary.csv``, ``controls.csv`` and ``summary.md`` in ``out_dir``; -> their paths by name.
    ``results.json`` and ``summary.md`` carry :func:`evaluation_provenance` (``command``: the command line)."""
    out = Path(out_dir)
    provenance = evaluation_provenance(command, evaluation.machine)
    header, rows = summary_table(evaluation)
    long_rows = [
        [r.song, r.seed, stem, metric, value]
        for r in evaluation.songs
        for stem, by_metric in r.scores.items()
        for metric, value in by_metric.items()
    ]
    arrows = {m: "↑" if up else "↓" for m, up in evaluation.higher_is_better.items()}
    md_header = ["stem", *(f"{m} {arrows.get(m, '')}".strip() for m in header[1:])]
    md = [f"# Evaluation of {evaluation.separator}\n"]
    if command:
        md.append(f"Command: `{command}`\n")
    songs = len(evaluation.song_scores())
    md.append(f"Songs: {songs}; cSDR is the median over songs, every other metric the mean.\n")
    md.append(markdown_table(md_header, [[row[0], *(fmt(v) for v in row[1:])] for row in rows]))
    cuda = f", peak CUDA memory {fmt(evaluation.peak_cuda_mib, 0)} MiB" if evaluation.peak_cuda_mib is not None else ""
    md.append(
        f"\nReal-time factor {fmt(evaluation.real_time_factor, 4)} (separation time / audio time, on the machine under Provenance), "
        f"peak resident memory {fmt(evaluation.peak_rss_mib, 0)} MiB{cuda}.\n"
    )
    md.append(controls_markdown(evaluation))
    md.append(codes_markdown(evaluation))
    if evaluation.issues:
        md.append("\nScores that could not be computed (NaN):\n\n" + "".join(f"- {issue}\n" for issue in evaluation.issues))
    md.append(provenance_markdown(provenance))
    paths = {
        "results.json": write_json(out / "results.json", {**evaluation.to_dict(), **provenance}),
        "scores.csv": write_text(out / "scores.csv", csv_text(["song", "seed", "stem", "metric", "value"], long_rows)),
        "summary.csv": write_text(out / "summary.csv", csv_text(header, rows)),
        "controls.csv": write_text(out / "controls.csv", csv_text(*controls_table(evaluation))),
        "summary.md": write_text(out / "summary.md", "\n".join(md)),
    }
    return paths
