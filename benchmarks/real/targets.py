"""Issue 19's quality targets for one model row, read from committed bench reports (``results.json``)
and printed as Markdown: met or short, and by how much, each with its controls beside it.

- Falcon 69 (never trained on): ViSQOL above mixture copy and above the row's own mismatched
  control on every stem; cSDR and SI-SDR beside it; the codec and decoder oracles (the ceilings).
- Held-out corpus songs: log-mel distance and ViSQOL above mixture copy and the mismatched control
  on every stem.
- The discriminative baseline at the same data and compute: log-mel and ViSQOL (the targets), cSDR
  and SI-SDR beside them, row by row, with whether both rows beat their own controls on each (a
  difference where one does not is one of sound, not of separation: docs/benchmarks.md,
  Comparisons).

A target is met where the 95 % interval of the paired difference lies above 0.

    python benchmarks/real/targets.py [--row corpus_lm_gpu] [--out benchmarks/real/results/targets.md]
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

RESULTS = Path(__file__).parent / "results"
STEMS = ("vocals", "drums", "bass", "other")
Report = dict[str, Any]


def load(name: str) -> Report:
    return json.loads((RESULTS / name / "results.json").read_text())


def row(report: Report, name: str) -> dict[str, Any]:
    for r in report["rows"]:
        if r["row"] == name:
            return r
    raise SystemExit(f"targets: row {name!r} is not in the report (rows: {', '.join(r['row'] for r in report['rows'])})")


def comparison(report: Report, a: str, b: str) -> dict[str, Any]:
    for c in report["comparisons"]:
        if (c["a"], c["b"]) == (a, b):
            return c["differences"]
    raise SystemExit(f"targets: the report compares no {a} against {b}")


def interval(d: dict[str, Any] | None) -> str:
    if d is None or d.get("low") is None:
        return "–"
    return f"{d['value']:+.2f} [{d['low']:+.2f}, {d['high']:+.2f}]"


def met(*differences: dict[str, Any] | None) -> str:
    """``met`` when every interval lies above 0; else ``short by X``: the largest gap to a positive
    difference among those not met (the mean's distance below 0, or ``n.s.`` for a positive mean
    whose interval still reaches 0)."""
    short = [d for d in differences if d is None or d.get("low") is None or d["low"] <= 0]
    if not short:
        return "met"
    if any(d is None or d.get("low") is None for d in short):
        return "not computed"
    worst = min(d["value"] for d in short)
    return f"short by {-worst:.2f}" if worst < 0 else "short (not significant)"


def value(r: dict[str, Any], metric: str, stem: str) -> str:
    e = r["estimates"].get(metric, {}).get(stem)
    return "–" if e is None or e["value"] is None else f"{e['value']:.2f}"


def own_control(r: dict[str, Any], metric: str, stem: str) -> dict[str, Any] | None:
    return r["controls"].get(stem, {}).get("differences", {}).get(metric)


def counts(r: dict[str, Any], metric: str) -> str:
    """``N songs × S sampling seeds``: N the most songs any stem scored (a stem absent from a song is
    not scored there)."""
    estimates = r["estimates"][metric].values()
    songs, seeds = max(e["n"] for e in estimates), max(e["seeds"] for e in estimates)
    return f"{songs} songs × {seeds} sampling seeds"


def falcon(report: Report, model: str) -> list[str]:
    m, copy = row(report, model), row(report, "mixture_copy")
    codec, decoder = row(report, "codec_oracle"), row(report, "decoder_oracle_mid")
    versus_copy = comparison(report, model, "mixture_copy")
    lines = [
        f"## Falcon 69 ({counts(m, 'visqol')})\n",
        "| stem | ViSQOL | mixture copy | Δ vs mixture copy | Δ vs own control | target | cSDR (copy) | SI-SDR (copy) "
        "| codec oracle ViSQOL | decoder oracle ViSQOL |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for stem in STEMS:
        d_copy, d_own = versus_copy["visqol"][stem], own_control(m, "visqol", stem)
        lines.append(
            f"| {stem} | {value(m, 'visqol', stem)} | {value(copy, 'visqol', stem)} | {interval(d_copy)} | {interval(d_own)} "
            f"| {met(d_copy, d_own)} | {value(m, 'csdr', stem)} ({value(copy, 'csdr', stem)}) "
            f"| {value(m, 'si_sdr', stem)} ({value(copy, 'si_sdr', stem)}) | {value(codec, 'visqol', stem)} "
            f"| {value(decoder, 'visqol', stem)} |"
        )
    return lines


def corpus(report: Report, model: str) -> list[str]:
    m = row(report, model)
    versus_copy = comparison(report, model, "mixture_copy")
    lines = [
        f"## Held-out corpus songs ({counts(m, 'visqol')})\n",
        "| stem | metric | model | Δ vs mixture copy | Δ vs own control | target |",
        "|---|---|---|---|---|---|",
    ]
    for stem in STEMS:
        for metric in ("mel_distance", "visqol"):
            d_copy, d_own = versus_copy[metric][stem], own_control(m, metric, stem)
            lines.append(
                f"| {stem} | {metric} | {value(m, metric, stem)} | {interval(d_copy)} | {interval(d_own)} | {met(d_copy, d_own)} |"
            )
    return lines


def baseline(report: Report, model: str, other: str, ceiling: str) -> list[str]:
    """The model against ``other`` row by row, and the pipeline's ceiling (``ceiling``: the
    model's last stage on perfect tokens) against ``other`` beside it."""
    m, b = row(report, model), row(report, other)
    versus, ceiling_versus = comparison(report, model, other), comparison(report, ceiling, other)
    seeds = len(b.get("seeds") or []) or 1
    lines = [
        f"## {other}: same data, same compute ({counts(m, 'visqol')}; {other}: {seeds} training seed(s) finished)\n",
        f"Last column: {ceiling} (the model's last stage given perfect tokens) minus {other}.\n",
        f"| stem | metric | model | {other} | Δ | own controls | model better | {ceiling} Δ |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for stem in STEMS:
        for metric in ("mel_distance", "visqol", "csdr", "si_sdr"):
            d = versus[metric][stem]
            lines.append(
                f"| {stem} | {metric} | {value(m, metric, stem)} | {value(b, metric, stem)} | {interval(d)} "
                f"| {d.get('own_controls', '–')} | {met(d)} | {interval(ceiling_versus[metric][stem])} |"
            )
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--row", default="corpus_lm_gpu", help="the model's row in the three reports")
    parser.add_argument("--falcon", default="falcon69-gpu", help="report folder under results/ for Falcon 69")
    parser.add_argument("--corpus", default="corpus-gpu", help="report folder for the held-out corpus songs")
    parser.add_argument("--baseline", default="corpus-x8", help="report folder with the same-compute baseline")
    parser.add_argument("--baseline-row", default="htdemucs_x8")
    parser.add_argument("--ceiling-row", default="decoder_oracle", help="the model's last stage on perfect tokens, in --baseline")
    parser.add_argument("--out", type=Path, help="also write the Markdown here")
    args = parser.parse_args()
    sections = [
        f"# Issue 19 targets for `{args.row}`\n",
        "Δ: the model's score minus the other's (positive: the model is better) [95 % interval]; met: the interval lies "
        "above 0. Own control: the model's score against its song's stems minus against another song's.\n",
        f"Reports: results/{args.falcon}, results/{args.corpus}, results/{args.baseline}. "
        f"Command: `python benchmarks/real/targets.py --row {args.row}`\n",
        *falcon(load(args.falcon), args.row),
        "",
        *corpus(load(args.corpus), args.row),
        "",
        *baseline(load(args.baseline), args.row, args.baseline_row, args.ceiling_row),
    ]
    text = "\n".join(sections) + "\n"
    print(text, end="")
    if args.out:
        args.out.write_text(text)


if __name__ == "__main__":
    main()
