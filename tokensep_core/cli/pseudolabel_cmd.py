"""``tokensep pseudolabel IN OUT --teacher NAME``: label unlabeled mixtures with a teacher separator."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from tqdm import tqdm

from tokensep_core.config import read_config_file
from tokensep_core.errors import ConfigError
from tokensep_core.plugins import load_registry
from tokensep_core.separation.pseudolabel import pseudolabel_folder

OVERRIDES = ("segment", "overlap", "batch_size", "device")
"""Teacher parameters that have their own command-line option."""


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.description = (
        "Runs a teacher separator over every mixture under IN (audio files, or song folders with "
        "mixture.wav) and writes OUT/{song}/{stem}.wav plus mixture.wav. Complete songs are skipped on a re-run."
    )
    parser.add_argument("input", metavar="IN", help="folder of mixtures (searched recursively) or one audio file")
    parser.add_argument("output", metavar="OUT", help="stems folder to write")
    parser.add_argument(
        "--teacher", required=True, metavar="NAME", help="separator name (see `tokensep plugins`), e.g. htdemucs, bs_roformer"
    )
    params = parser.add_mutually_exclusive_group()
    params.add_argument("--params", metavar="JSON", help='teacher parameters as JSON, e.g. \'{"checkpoint": "model.safetensors"}\'')
    params.add_argument("--config", metavar="FILE", help="teacher parameters in a YAML/TOML/JSON file")
    parser.add_argument("--segment", type=float, metavar="S", help="seconds per inference segment")
    parser.add_argument("--overlap", type=float, metavar="O", help="fraction of a segment shared with the next")
    parser.add_argument("--batch-size", type=int, metavar="N", help="segments per forward pass")
    parser.add_argument("-d", "--device", help="auto, cpu, cuda, …")


def teacher_params(args: argparse.Namespace) -> tuple[dict[str, Any], str]:
    """The teacher's parameters from --params/--config plus option overrides, and their source."""
    if args.params is not None:
        try:
            params = json.loads(args.params)
        except json.JSONDecodeError as err:
            raise ConfigError(f"--params: not valid JSON ({err.msg} at position {err.pos})") from None
        if not isinstance(params, dict):
            raise ConfigError(f"--params: expected a JSON object, got {type(params).__name__}")
        source = "--params"
    elif args.config is not None:
        params, source = read_config_file(args.config), args.config
    else:
        params, source = {}, "command line"
    params.update({name: getattr(args, name) for name in OVERRIDES if getattr(args, name) is not None})
    return params, source


def run(args: argparse.Namespace) -> int:
    registry = load_registry()
    params, source = teacher_params(args)
    entry = registry.get("separator", args.teacher)
    unknown = [name for name in OVERRIDES if getattr(args, name) is not None and name not in entry.config_cls.model_fields]
    if unknown:
        raise ConfigError(f"teacher {args.teacher!r} has no {unknown[0]!r} parameter")
    config = registry.make_config("separator", args.teacher, params, source)
    teacher = entry.create(config)
    if "checkpoint" in entry.config_cls.model_fields and getattr(config, "checkpoint", None) is None:
        print(f"tokensep: warning: teacher {args.teacher!r} has no checkpoint: its weights are random", file=sys.stderr)
    settings = {"teacher": args.teacher, "params": config.model_dump(mode="json")}
    summary = pseudolabel_folder(
        teacher, args.input, args.output, settings, report=lambda line: tqdm.write(f"tokensep: error: {line}", file=sys.stderr)
    )
    print(
        f"pseudolabel: {summary.written} songs written, {summary.skipped} already complete, {len(summary.failed)} failed -> {args.output}"
    )
    return 1 if summary.failed else 0
