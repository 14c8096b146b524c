"""``tokensep export CHECKPOINT OUT``: a trained model's weights and config, without training state."""

from __future__ import annotations

import argparse
import json

import torch

from tokensep_core.errors import ConfigError
from tokensep_core.separation.separator import merge_inference
from tokensep_core.training.checkpoint import export_checkpoint, read_json, resolve_checkpoint

DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", help="a step_… directory or a run directory (its latest)")
    parser.add_argument("out", help="model directory to write (replaced if it exists)")
    parser.add_argument(
        "--dtype", choices=sorted(DTYPES), default="float32", help="store floating weights in this type (loads back as float32)"
    )
    parser.add_argument(
        "--inference", help='JSON overrides of a separator\'s stored inference settings, e.g. \'{"sampling": {"temperature": 0.5}}\''
    )


def run(args: argparse.Namespace) -> int:
    config = None
    if args.inference:
        try:
            overrides = json.loads(args.inference)
        except json.JSONDecodeError as err:
            raise ConfigError(f"--inference: not valid JSON ({err.msg})") from None
        config = read_json(resolve_checkpoint(args.checkpoint), "config")
        task = config.get("task") if isinstance(config.get("task"), dict) else None
        if task is None or "model" not in task:
            raise ConfigError(f"--inference: {args.checkpoint} is not a separator checkpoint")
        task["inference"] = merge_inference(task.get("inference", {}), overrides, "--inference").model_dump(mode="json")
    path = export_checkpoint(args.checkpoint, args.out, DTYPES[args.dtype], config)
    size = sum(f.stat().st_size for f in path.iterdir())
    print(f"exported {path} ({size / 1e6:.1f} MB, {args.dtype})")
    return 0
