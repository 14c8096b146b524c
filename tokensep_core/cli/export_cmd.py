"""``tokensep export CHECKPOINT OUT``: a trained model's weights and config, without training state.

A separator's config keeps (or, saved before it was recorded, gets from the plugins installed
now) the record of which distribution provided each component (tokensep_core.provenance)."""

from __future__ import annotations

import argparse
import json

from tokensep_core.errors import ConfigError
from tokensep_core.plugins import load_registry
from tokensep_core.provenance import separator_record
from tokensep_core.runtime.precision import TORCH_DTYPES
from tokensep_core.separation.separator import merge_inference
from tokensep_core.training.checkpoint import export_checkpoint, read_json, resolve_checkpoint


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", help="a step_… directory or a run directory (its latest)")
    parser.add_argument("out", help="model directory to write (replaced if it exists)")
    parser.add_argument(
        "--dtype", choices=sorted(TORCH_DTYPES), default="float32", help="store floating weights in this type (loads back as float32)"
    )
    parser.add_argument(
        "--inference", help='JSON overrides of a separator\'s stored inference settings, e.g. \'{"sampling": {"temperature": 0.5}}\''
    )


def run(args: argparse.Namespace) -> int:
    checkpoint = resolve_checkpoint(args.checkpoint)
    config = read_json(checkpoint, "config")
    task = config.get("task") if isinstance(config, dict) and isinstance(config.get("task"), dict) else None
    model = task.get("model") if task is not None and isinstance(task.get("model"), dict) else None
    if args.inference:
        try:
            overrides = json.loads(args.inference)
        except json.JSONDecodeError as err:
            raise ConfigError(f"--inference: not valid JSON ({err.msg})") from None
        if model is None:
            raise ConfigError(f"--inference: {args.checkpoint} is not a separator checkpoint")
        task["inference"] = merge_inference(task.get("inference", {}), overrides, "--inference").model_dump(mode="json")
    if model is not None and "components" not in config:  # saved before provenance was recorded: the plugins installed now
        config["components"] = separator_record(load_registry(), model)
    path = export_checkpoint(checkpoint, args.out, TORCH_DTYPES[args.dtype], config)
    size = sum(f.stat().st_size for f in path.iterdir())
    print(f"exported {path} ({size / 1e6:.1f} MB, {args.dtype})")
    return 0
