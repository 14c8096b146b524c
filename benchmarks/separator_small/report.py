"""Writes RESULTS.md for the separator-small benchmark from what run.sh measured under runs/:
the training logs, the codec's health, the validation sweep and the test evaluations with their
controls. The reading of the numbers is written by hand in READING.md (appended as it is), so
this script states only what the numbers say.

Usage (from this folder; run.sh calls it): ../../.venv/bin/python report.py [--best]
With ``--best``: print the sweep's chosen inference overrides as JSON (see :func:`margin`).
"""

from __future__ import annotations

import csv
import json
import subprocess
import sys
from pathlib import Path

import numpy as np

from tokensep_core.evaluation import Evaluation
from tokensep_core.evaluation.stats import estimate, paired_difference

HERE = Path(__file__).resolve().parent
RUNS = HERE / "runs"
ROWS = (
    ("tokensep", "the model, its generated stems decoded by the codec (the chosen sampling, `mixture_consistency: off`)"),
    ("tokensep_mask", "the model's stems used as soft masks on the mixture (the chosen sampling, `mixture_consistency: mask`)"),
    ("unconditional_mask", "ablation: the same masks from stems generated without the mixture (`cfg_scale: 0`)"),
    ("mixture_copy", "control: the mixture as every stem"),
    ("codec_oracle", "ceiling: the true stems through the codec"),
    ("old_shipped", "the model this run replaces (pretrained/separator-small as it was; OLD_MODEL), when runs/eval/old_shipped was scored"),
)
METRICS = (("mel_distance", False), ("visqol", True), ("si_sdr", True))


def load(name: str, folder: str = "eval") -> dict | None:
    path = RUNS / folder / name / "results.json"
    return json.loads(path.read_text()) if path.exists() else None


def per_song(result: dict, stem: str, metric: str, mismatched: bool = False) -> dict[str, float]:
    """``{song: score}``, each song's score the mean over its sampling seeds; the mismatched
    control keyed by the song whose references it was scored against, as the verdict pairs it."""
    evaluation = Evaluation.from_dict(result)
    scores = evaluation.mismatched_scores() if mismatched else evaluation.song_scores()
    return {song: by_stem[stem][metric] for song, by_stem in scores.items() if metric in by_stem.get(stem, {})}


def interval(metric: str, values: np.ndarray) -> tuple[float, float, float]:
    """The metric's aggregate over songs and its 95 % bootstrap interval (the repository's one bootstrap)."""
    result = estimate(metric, values.tolist())
    return result.value, result.low, result.high


def paired(a: dict[str, float], b: dict[str, float], higher: bool) -> tuple[float, float, float, int, int]:
    """Oriented per-song difference a − b (positive: a better), its interval, wins and songs."""
    songs = sorted(set(a) & set(b))
    result = paired_difference(np.array([[a[s] for s in songs]]), np.array([[b[s] for s in songs]]), higher)
    return result.value, result.low, result.high, result.wins, result.pairs


def margin(result: dict) -> float:
    """Sweep criterion: mean over stems of (mismatched − matched) log-mel distance on the
    validation songs. A constant output scores 0 however plausible it sounds."""
    stems = result["summary"]
    return float(np.mean([result["mismatched_summary"][s]["mel_distance"] - stems[s]["mel_distance"] for s in stems]))


def sweep() -> list[tuple[str, dict, dict]]:
    rows = []
    for folder in sorted((RUNS / "sweep").iterdir()):
        if (folder / "results.json").exists():
            rows.append((folder.name, json.loads((folder / "params.json").read_text()), json.loads((folder / "results.json").read_text())))
    return sorted(rows, key=lambda row: -margin(row[2]))


def training(run: Path) -> str:
    """One line on a training run: steps, time, loss, last held-out conditioning gain. A run that
    came back from another machine as an export (no checkpoints here) gives its steps from
    metrics.csv and its device from train.log."""
    rows = list(csv.DictReader((run / "metrics.csv").open()))
    loss = next(k for k in rows[-1] if k.endswith("/total"))
    states = sorted((run / "checkpoints").glob("step_*/state.json"))
    if states:
        state = json.loads(states[-1].read_text())
        spent = f"{state['step']} steps, {state.get('train_seconds', float('nan')) / 60:.1f} min of training time"
    else:
        log = (run / "train.log").read_text() if (run / "train.log").exists() else ""
        device = log.split("device ", 1)[1].split(",")[0] if "device " in log else "unknown"
        spent = f"{rows[-1]['step']} steps on device {device} (training time not recorded in this folder)"
    text = f"{spent}, {loss} {float(rows[0][loss]):.3f} (step {rows[0]['step']}) → {float(rows[-1][loss]):.3f} (step {rows[-1]['step']})"
    evals = [r for r in rows if r.get("eval/ce_true")]
    if evals:
        last = evals[-1]
        text += (
            f"; held-out conditioning gain at step {last['step']}: {float(last['eval/gain_null']):.4f} nats/token vs the null "
            f"condition, {float(last['eval/gain_shuffled']):.4f} vs a shuffled one (CE with the true condition {float(last['eval/ce_true']):.4f})"
        )
    return text


def codec_health() -> list[str]:
    result = json.loads((RUNS / "eval" / "codec-health" / "results.json").read_text())
    size = result["codec"].get("codebook_size", 0)
    lines = [
        f"Codebook health of the codec on the test songs (`{result['command']}`):",
        "",
        "| codebook | ids used | perplexity | ≥ size/10 |",
        "|---|---|---|---|",
    ]
    for book in result["codebooks"]:
        lines.append(
            f"| {book['codebook']} | {book['used']} of {size} | {book['perplexity']:.1f} | {'yes' if book['perplexity'] >= size / 10 else 'no'} |"
        )
    return lines


def results_table(results: dict[str, dict]) -> list[str]:
    stems = list(next(iter(results.values()))["summary"])
    head = "| stem | system | " + " | ".join(f"{m} {'↑' if up else '↓'} [95% CI]" for m, up in METRICS) + " | "
    head += " | ".join(f"{m} mismatched" for m, _ in METRICS) + " | verdict |"
    lines = [head, "|---|---|" + "---|" * (2 * len(METRICS) + 1)]
    for stem in stems:
        for name, _ in ROWS:
            if name not in results:
                continue
            result, cells, controls = results[name], [], []
            for metric, _ in METRICS:
                values = per_song(result, stem, metric)
                if not values:
                    cells.append("–")
                    controls.append("–")
                    continue
                mean, low, high = interval(metric, np.array(list(values.values())))
                cells.append(f"{mean:.3f} [{low:.3f}, {high:.3f}]")
                control = per_song(result, stem, metric, mismatched=True)
                controls.append(f"{np.mean(list(control.values())):.3f}" if control else "–")
            verdict = result.get("controls", {}).get(stem, {}).get("verdict", "–")
            lines.append(f"| {stem} | {name} | " + " | ".join(cells) + " | " + " | ".join(controls) + f" | {verdict} |")
    return lines


def comparisons(results: dict[str, dict]) -> list[str]:
    """Paired per-song differences of each model row against mixture copy and against its own
    mismatched control, and of the masked row against its unconditional ablation."""
    pairs = [(row, "mixture_copy") for row in ("tokensep", "tokensep_mask") if row in results]
    pairs += [("tokensep_mask", "unconditional_mask")] if {"tokensep_mask", "unconditional_mask"} <= set(results) else []
    pairs += [(row, "old_shipped") for row in ("tokensep", "tokensep_mask") if row in results and "old_shipped" in results]
    stems = list(next(iter(results.values()))["summary"])
    lines = [
        "| stem | comparison | " + " | ".join(f"{m}: mean difference [95% CI], wins" for m, _ in METRICS) + " |",
        "|---|---|" + "---|" * len(METRICS),
    ]
    for stem in stems:
        for row in ("tokensep", "tokensep_mask"):
            if row not in results:
                continue
            cells = []
            for metric, up in METRICS:
                a, b = per_song(results[row], stem, metric), per_song(results[row], stem, metric, mismatched=True)
                cells.append(_cell(paired(a, b, up)) if a and b else "–")
            lines.append(f"| {stem} | {row} − its mismatched control | " + " | ".join(cells) + " |")
        for a_name, b_name in pairs:
            cells = []
            for metric, up in METRICS:
                a, b = per_song(results[a_name], stem, metric), per_song(results[b_name], stem, metric)
                cells.append(_cell(paired(a, b, up)) if a and b else "–")
            lines.append(f"| {stem} | {a_name} − {b_name} | " + " | ".join(cells) + " |")
    return lines


def _cell(stats: tuple[float, float, float, int, int]) -> str:
    mean, low, high, wins, n = stats
    mark = " **✓**" if low > 0 else (" ✗" if high < 0 else "")
    return f"{mean:+.3f} [{low:+.3f}, {high:+.3f}], {wins}/{n}{mark}"


def main() -> None:
    if "--best" in sys.argv[1:]:
        print(json.dumps(sweep()[0][1]))
        return
    results = {name: r for name, _ in ROWS if (r := load(name)) is not None}
    rows = sweep()
    tokensep = results["tokensep"]
    machine = tokensep["machine"]
    commit = subprocess.run(["git", "rev-parse", "--short", "HEAD"], capture_output=True, text=True, cwd=HERE).stdout.strip()
    songs = len({r["song"] for r in tokensep["songs"]})
    seeds = sorted({r["seed"] for r in tokensep["songs"]})
    lines = [
        "# separator-small: results",
        "",
        "Command: `bash benchmarks/separator_small/run.sh` (this file: `../../.venv/bin/python report.py` in that folder).",
        f"Evaluation machine: {machine['cpu']}, {machine['logical_cores']} logical cores, torch {machine['torch']}, "
        f"{machine['threads']} thread(s), device {machine['device']}; report written at commit {commit}.",
        "",
        f"- codec (`codec.yaml`): {training(RUNS / 'codec')}",
        f"- separator (`separator.yaml`): {training(RUNS / 'separator')}",
        f"- test set: {songs} held-out synthetic songs of 8 s at 16 kHz stereo (`runs/test`, seed 9090; never trained on or used for selection)",
        f"- inference settings: `{rows[0][0]}` = `{json.dumps(rows[0][1])}`, chosen on 8 validation songs (`runs/valid`, seed 4242) "
        "by the largest mean margin of the log-mel distance to the mismatched control (a constant output scores 0)",
        f"- exported: the chosen settings, i.e. row `{'tokensep_mask' if rows[0][1].get('mixture_consistency') == 'mask' else 'tokensep'}` below",
        f"- sampling seeds of the generative rows on the test songs: {', '.join(map(str, seeds))}; each song's score is the mean over them",
        "",
        *codec_health(),
        "",
        "## Scores on the test songs",
        "",
        "Rows: " + "; ".join(f"`{name}`: {what}" for name, what in ROWS if name in results) + ".",
        "Each score is the mean over songs with a 95 % bootstrap interval; `mismatched`: the same outputs scored against the "
        "next song's references; verdict: `tokensep eval separator`'s (against each song's references, its own outputs minus the previous "
        "song's outputs, above 0 on every metric).",
        "",
        *results_table(results),
        "",
        "## Paired comparisons (per song; positive: the first row is better; ✓: interval above 0, ✗: below)",
        "",
        *comparisons(results),
        "",
        "Input dependence (how much outputs differ between songs relative to the references; ~0: constant output, oracle ~1): "
        + "; ".join(
            f"{name} " + ", ".join(f"{s} {v:.2f}" for s, v in results[name]["input_dependence"].items())
            for name in ("tokensep", "tokensep_mask")
            if name in results
        )
        + ".",
    ]
    codes = tokensep.get("codes") or {}
    if codes:
        lines += [
            "",
            "## Generated codes beside the reference codes (test songs, same codec)",
            "",
            "| stem | codebook | generated ids / perplexity | reference ids / perplexity |",
            "|---|---|---|---|",
        ]
        for stem, by in codes.items():
            for g, r in zip(by["generated"], by["reference"]):
                lines.append(f"| {stem} | {g['codebook']} | {g['used']} / {g['perplexity']:.1f} | {r['used']} / {r['perplexity']:.1f} |")
    lines += ["", "## Validation sweep (8 songs, log-mel distance ↓; margin = mismatched − matched, mean over stems)", ""]
    stems = list(rows[0][2]["summary"])
    lines += ["| setting | overrides | " + " | ".join(stems) + " | margin |", "|---|---|" + "---|" * (len(stems) + 1)]
    for name, params, result in rows:
        lines.append(
            f"| {name} | `{json.dumps(params)}` | "
            + " | ".join(f"{result['summary'][s]['mel_distance']:.3f}" for s in stems)
            + f" | {margin(result):+.3f} |"
        )
    replication = {name: r for name, _ in ROWS if (r := load(name, "replication")) is not None}
    if replication:
        songs = len({r["song"] for r in replication["tokensep_mask"]["songs"]})
        lines += [
            "",
            f"## Replication on {songs} fresh test songs (`runs/replication`: `REPLICATE_SEED=N bash run.sh`)",
            "",
            "Songs from another seed, scored once, after the settings and the verdict's rule were fixed.",
            "",
            *results_table(replication),
            "",
            *comparisons(replication),
        ]
    reading = HERE / "READING.md"
    if reading.exists():
        lines += ["", reading.read_text().rstrip()]
    (HERE / "RESULTS.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
