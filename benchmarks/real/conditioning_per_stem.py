"""Which stems' tokens each model predicts, and how much from the mixture: `tokensep eval
conditioning --per-stem` for several models on several data sets, as Markdown tables.

    OMP_NUM_THREADS=1 python benchmarks/real/conditioning_per_stem.py OUT_DIR \\
        --models pretrained/separator-small,runs/real/models/pilot_dry \\
        --data benchmarks/real/results/conditioning-per-stem/falcon69.yaml:16,benchmarks/real/gpu/valid_conditioning.yaml:36

Each (model, data) pair is scored once into OUT_DIR/scores.jsonl (a pair already there is kept, so
an interrupted run resumes); OUT_DIR/results.md is written from all of it.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from tqdm import tqdm

from tokensep_core.plugins import load_registry

STEMS = ("vocals", "drums", "bass", "other", "all")


def score(model: str, data_config: str, items: int, registry) -> dict[str, dict[str, float]]:
    from tokensep_core.cli.eval_conditioning_cmd import measure_conditioning
    from tokensep_core.data.open_dataset import open_dataset

    dataset = open_dataset(None, data_config, "test", registry)
    return measure_conditioning(model, dataset, items=items, device="cpu", registry=registry, per_stem=True)


def table(rows: list[dict], data: str, key: str) -> list[str]:
    out = [f"| model | {' | '.join(STEMS)} |", "|---|" + "---|" * len(STEMS)]
    for row in rows:
        if row["data"] == data:
            out.append(f"| {row['model']} | " + " | ".join(f"{row['scores'][s][key]:.3f}" for s in STEMS) + " |")
    return out


def render(rows: list[dict], command: str) -> str:
    lines = [
        "# Per-stem cross-entropy and conditioning gain",
        "",
        f"Command: `{command}`",
        "",
        "Nats per token of each stem's codec tokens alone (`all`: every stem's), teacher-forced, no",
        "label smoothing; `gain_null` / `gain_shuffled`: the CE with the null condition / another",
        "item's condition minus with the true one (near 0: that stem's tokens do not read the mixture).",
    ]
    for data in dict.fromkeys(row["data"] for row in rows):
        items = next(row["items"] for row in rows if row["data"] == data)
        for key in ("ce_true", "gain_null", "gain_shuffled"):
            lines += ["", f"## {key}: `{data}` ({items} crops)", "", *table(rows, data, key)]
    return "\n".join(lines) + "\n"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--models", required=True, help="comma-separated models (shipped names or checkpoint folders)")
    parser.add_argument("--data", required=True, help="comma-separated DATA_CONFIG:ITEMS")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    path = args.out / "scores.jsonl"
    rows = [json.loads(line) for line in path.read_text().splitlines()] if path.is_file() else []
    done = {(row["model"], row["data"]) for row in rows}
    pairs = [(m, d) for m in args.models.split(",") for d in args.data.split(",")]
    registry = load_registry()  # once: plugins are found by scanning installed packages
    for model, spec in tqdm(pairs, desc="score", unit="pair"):
        data, _, items = spec.rpartition(":")
        if not data or not items.isdigit():
            parser.error(f"--data: {spec!r} is not DATA_CONFIG:ITEMS")
        if (model, data) in done:
            continue
        row = {"model": model, "data": data, "items": int(items), "scores": score(model, data, int(items), registry)}
        with path.open("a") as f:
            f.write(json.dumps(row) + "\n")
        rows.append(row)
    command = "OMP_NUM_THREADS=1 python " + " ".join(sys.argv)
    (args.out / "results.md").write_text(render(rows, command))
    print(args.out / "results.md")
    return 0


if __name__ == "__main__":
    sys.exit(main())
