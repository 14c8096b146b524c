"""``tokensep eval separator CHECKPOINT DATA``: separate every test song, score every stem,
write the stems and the tables (results.json, scores.csv, summary.csv, summary.md)."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

from tokensep_core.data.open_dataset import open_dataset
from tokensep_core.errors import ConfigError
from tokensep_core.evaluation import build_metrics, evaluate, parse_metric_specs, select_metrics, select_songs, write_evaluation
from tokensep_core.evaluation.controls import check_offset
from tokensep_core.interfaces import Separator
from tokensep_core.plugins import load_registry
from tokensep_core.registry import ComponentRegistry
from tokensep_core.separation.separator import GenerativeSeparator


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "checkpoint",
        metavar="CHECKPOINT",
        help="separator checkpoint (step_… or run directory), or a registered separator name (oracle, mixture_copy, codec_oracle, htdemucs, …)",
    )
    parser.add_argument("data", metavar="DATA", nargs="?", help="MUSDB18-HQ-layout folder (DATA/test/SONG/*.wav); or use --data-config")
    parser.add_argument("--data-config", help="YAML/TOML/JSON file with a dataset spec {name: ..., params: {...}} (any registered dataset)")
    parser.add_argument("--split", default="test", help="split of the DATA folder (default: test)")
    parser.add_argument("-o", "--out", default="eval", help="output folder (default: eval)")
    parser.add_argument(
        "--metrics",
        help='comma-separated metric names, or JSON specs: \'[{"name": "onset_f", "params": {...}}, "csdr"]\' (default: si_sdr,usdr,csdr,visqol,onset_f,attack_error[,nisqa]; dnsmos, on vocals, only when named)',
    )
    parser.add_argument("--nisqa-weights", type=Path, help="NISQA v2 weights (nisqa.tar): adds NISQA on vocals")
    parser.add_argument("--songs", type=int, help="evaluate only the first N songs")
    parser.add_argument("--seed", type=int, action="append", help="sampling seed; repeat for several (default 0)")
    parser.add_argument(
        "--params",
        help='JSON params of a registered separator named as CHECKPOINT; for a checkpoint, overrides of its inference settings, e.g. \'{"sampling": {"cfg_scale": 2}}\' (temperature, top_k, top_p, min_p or seed on a greedy model need "greedy": false)',
    )
    parser.add_argument(
        "--mismatched-offset",
        type=int,
        default=1,
        metavar="N",
        help="the mismatched-reference control scores song i's estimates against song i+N's references, cyclically "
        "(default 1: the next song); set N to the number of consecutive test songs that share a composition",
    )
    parser.add_argument("--no-stems", action="store_true", help="do not write the separated stems")
    parser.add_argument("-d", "--device", default="auto", help="device of a checkpoint separator: auto, cpu, cuda, …")


def load_separator(name: str, params: str | None, device: str, registry: ComponentRegistry) -> Separator:
    """A checkpoint directory (``params``: overrides of its inference settings), else a registered
    separator built with ``params`` (JSON)."""
    try:
        parsed = json.loads(params) if params else {}
    except json.JSONDecodeError as err:
        raise ConfigError(f"--params: not valid JSON ({err.msg})") from None
    if not isinstance(parsed, dict):
        raise ConfigError("--params: expected a JSON object")
    if Path(name).exists():
        separator = GenerativeSeparator.from_pretrained(name, device=device, registry=registry)
        separator.update_inference(parsed, "--params")
        return separator
    if ("separator", name) not in registry:
        known = ", ".join(registry.names("separator"))
        raise ConfigError(f"{name}: neither a checkpoint directory nor a registered separator (known: {known})")
    return registry.build("separator", {"name": name, "params": parsed}, source="--params")


def run(args: argparse.Namespace) -> int:
    registry = load_registry()
    chosen = parse_metric_specs(args.metrics) if args.metrics else None
    metrics = build_metrics(registry, select_metrics(chosen, args.nisqa_weights), "--metrics")
    dataset = open_dataset(args.data, args.data_config, args.split, registry)
    total = len(dataset) if args.songs is None else min(args.songs, len(dataset))
    try:  # before the separator loads
        check_offset(args.mismatched_offset, total)
    except ConfigError as err:
        raise ConfigError(f"--mismatched-offset: {err}") from None
    separator = load_separator(args.checkpoint, args.params, args.device, registry)
    out = Path(args.out)
    evaluation = evaluate(
        separator,
        select_songs(dataset, args.songs),
        metrics,
        seeds=args.seed or [0],
        stems_dir=None if args.no_stems else out / "stems",
        label=args.checkpoint,
        total=total,
        mismatched_offset=args.mismatched_offset,
    )
    command = "tokensep " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[0].endswith("tokensep") else ""
    paths = write_evaluation(evaluation, out, command)
    print(paths["summary.md"].read_text())
    print(f"tokensep: results in {out}")
    return 0
