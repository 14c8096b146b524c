"""``tokensep export CHECKPOINT OUT``: a trained model's weights and config, without training state.

A separator whose inference settings name a mixture decoder (stored, or set with ``--inference``)
gets a copy of it in ``OUT/mixture_decoder``, and its stored path becomes that folder
(tokensep_core.separation.decoder_checkpoint).

A separator's config keeps (or, saved before it was recorded, gets from the plugins installed
now) the record of which distribution provided each component (tokensep_core.provenance)."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from tokensep_core.errors import ConfigError
from tokensep_core.plugins import load_registry
from tokensep_core.provenance import separator_record
from tokensep_core.runtime.precision import TORCH_DTYPES
from tokensep_core.separation.decoder_checkpoint import BUNDLED_FOLDER, check_decoder_stems, load_mixture_decoder, stored_decoder_path
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
    overrides = {}
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
    bundled = {}
    decoder = (task.get("inference") or {}).get("mixture_decoder") if model is not None else None
    if decoder is not None:
        source = Path(decoder) if "mixture_decoder" in overrides else stored_decoder_path(checkpoint, decoder)
        _check_decoder(source, model)
        task["inference"]["mixture_decoder"] = BUNDLED_FOLDER
        bundled[BUNDLED_FOLDER] = source
    path = export_checkpoint(checkpoint, args.out, TORCH_DTYPES[args.dtype], config, bundled)
    size = sum(f.stat().st_size for f in path.rglob("*") if f.is_file())
    with_decoder = f", with its mixture decoder from {bundled[BUNDLED_FOLDER]}" if bundled else ""
    print(f"exported {path} ({size / 1e6:.1f} MB, {args.dtype}{with_decoder})")
    return 0


def _check_decoder(source: Path, model: dict) -> None:
    """Refuse, before anything is written, a mixture decoder that does not load or splits other
    stems than the separator generates."""
    from tokensep_core.separation.pipeline import PipelineConfig

    stems = PipelineConfig.model_validate({**model, "codec_checkpoint": None}).stems
    check_decoder_stems(load_mixture_decoder(source), stems, f"mixture decoder {source}")
