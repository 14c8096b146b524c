"""``tokensep eval codec CHECKPOINT DATA``: resynthesis quality, bitrate, codebook health and speed
of a trained (or, with ``untrained --codec-spec``, an untrained) codec on a dataset's songs."""

from __future__ import annotations

import argparse
import json
import shlex
import sys
from pathlib import Path

import torch

from tokensep_codecs.evaluation import DEFAULT_METRICS, evaluate_codec, write_codec_evaluation
from tokensep_codecs.inference import LoadedCodec, load_codec
from tokensep_core.config import ComponentSpec, read_config_file, validate_model
from tokensep_core.data.open_dataset import open_dataset
from tokensep_core.errors import ConfigError
from tokensep_core.evaluation import build_metrics, parse_metric_specs, select_songs
from tokensep_core.plugins import load_registry
from tokensep_core.registry import ComponentRegistry
from tokensep_core.runtime.device import resolve_device

UNTRAINED = "untrained"


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "checkpoint",
        metavar="CHECKPOINT",
        help=f"codec training checkpoint (step_… or run directory: its latest), or '{UNTRAINED}' with --codec-spec",
    )
    parser.add_argument("data", metavar="DATA", nargs="?", help="MUSDB18-HQ-layout folder (DATA/test/SONG/*.wav); or use --data-config")
    parser.add_argument("--data-config", help="YAML/TOML/JSON file with a dataset spec {name: ..., params: {...}} (any registered dataset)")
    parser.add_argument("--split", default="test", help="split of the DATA folder (default: test)")
    parser.add_argument(
        "--codec-spec", help=f"with CHECKPOINT '{UNTRAINED}': a codec spec as JSON, or a config file whose 'codec' section is one"
    )
    parser.add_argument("--seed", type=int, default=0, help="seed of an untrained codec's weights (default 0)")
    parser.add_argument("-o", "--out", default="eval-codec", help="output folder (default: eval-codec)")
    parser.add_argument("--stems", nargs="+", help="stems to resynthesize (default: every stem of each song)")
    parser.add_argument("--songs", type=int, help="evaluate only the first N songs")
    parser.add_argument("--seconds", type=float, help="evaluate only the first S seconds of each song")
    parser.add_argument(
        "--metrics",
        default=",".join(DEFAULT_METRICS),
        help=f"comma-separated registered metrics, or JSON specs {{name, params}} (default: {','.join(DEFAULT_METRICS)})",
    )
    parser.add_argument("-d", "--device", default="cpu", help="device: cpu (default), auto, cuda, …")


def parse_codec_spec(text: str) -> ComponentSpec:
    """JSON ``{"name": ..., "params": {...}}``, or a config file holding one (or a ``codec`` section)."""
    if text.lstrip().startswith("{"):
        try:
            data = json.loads(text)
        except json.JSONDecodeError as err:
            raise ConfigError(f"--codec-spec: not valid JSON ({err.msg})") from None
        return validate_model(ComponentSpec, data, "--codec-spec")
    data = read_config_file(text)
    return validate_model(ComponentSpec, data.get("codec", data), text)


def load_codec_arg(args: argparse.Namespace, registry: ComponentRegistry) -> LoadedCodec:
    device = resolve_device(args.device)
    if args.checkpoint == UNTRAINED:
        if not args.codec_spec:
            raise ConfigError(f"CHECKPOINT '{UNTRAINED}' needs --codec-spec")
        torch.manual_seed(args.seed)
        return load_codec(registry, spec=parse_codec_spec(args.codec_spec), device=device)
    if args.codec_spec:
        raise ConfigError(f"--codec-spec applies to CHECKPOINT '{UNTRAINED}' (a checkpoint carries its own spec)")
    return load_codec(registry, checkpoint=args.checkpoint, device=device)


def run(args: argparse.Namespace) -> int:
    registry = load_registry()
    metrics = build_metrics(registry, parse_metric_specs(args.metrics), "--metrics")
    loaded = load_codec_arg(args, registry)
    dataset = open_dataset(args.data, args.data_config, args.split, registry)
    total = len(dataset) if args.songs is None else min(args.songs, len(dataset))
    label = f"{loaded.spec.name} ({UNTRAINED})" if args.checkpoint == UNTRAINED else args.checkpoint
    stems = args.stems or list(dataset.stems)
    evaluation = evaluate_codec(loaded, select_songs(dataset, args.songs), metrics, stems, args.seconds, label=label, total=total)
    command = "tokensep " + " ".join(shlex.quote(a) for a in sys.argv[1:]) if sys.argv[0].endswith("tokensep") else ""
    paths = write_codec_evaluation(evaluation, Path(args.out), command)
    print(paths["summary.md"].read_text())
    warning = evaluation.degenerate_warning()
    if warning:
        print(f"tokensep: warning: {args.checkpoint}: {warning}", file=sys.stderr)
    print(f"tokensep: results in {args.out}")
    return 0
