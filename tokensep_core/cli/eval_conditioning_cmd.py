"""``tokensep eval conditioning CHECKPOINT DATA``: how much a separator checkpoint's LM reads the
mixture: held-out cross-entropy per token with the true, null and shuffled condition, and the
gains (tokensep_core.separation.conditioning), as the trainer logs them under ``eval/``;
``--per-stem`` adds them for each stem's tokens alone."""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

import torch

from tokensep_core.data.open_dataset import open_dataset
from tokensep_core.errors import CheckpointError
from tokensep_core.interfaces import StemDataset
from tokensep_core.plugins import load_registry
from tokensep_core.registry import ComponentRegistry
from tokensep_core.separation.conditioning import held_out_items
from tokensep_core.separation.separator import GenerativeSeparator
from tokensep_core.separation.training import SeparatorTask, SeparatorTrainingConfig
from tokensep_core.training.checkpoint import read_json, resolve_checkpoint


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", metavar="CHECKPOINT", help="separator checkpoint (step_… or run directory)")
    parser.add_argument(
        "data", metavar="DATA", nargs="?", help="MUSDB18-HQ-layout folder of songs the model did not train on; or --data-config"
    )
    parser.add_argument("--data-config", help="YAML/TOML/JSON file with a dataset spec {name: ..., params: {...}} (any registered dataset)")
    parser.add_argument("--split", default="test", help="split of the DATA folder (default: test)")
    parser.add_argument("--items", type=int, default=16, help="crops, item i from song i mod the number of songs (default 16)")
    parser.add_argument("--seconds", type=float, help="crop length (default: the checkpoint's augment.seconds)")
    parser.add_argument("--batch-size", type=int, default=8, help="items per forward (default 8)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the crop starts (default 0)")
    parser.add_argument("-d", "--device", default="auto", help="auto, cpu, cuda, …")
    parser.add_argument(
        "--per-stem",
        action="store_true",
        help="also score each stem's tokens alone (which stems read the mixture); 1 + stems forwards per batch and condition",
    )
    parser.add_argument("--json", action="store_true", help="print the scores as one JSON object ({scope: scores} with --per-stem)")


def measure_conditioning(
    checkpoint: str | Path,
    dataset: StemDataset,
    items: int = 16,
    seconds: float | None = None,
    batch_size: int = 8,
    seed: int = 0,
    device: str = "auto",
    registry: ComponentRegistry | None = None,
    per_stem: bool = False,
) -> dict[str, Any]:
    """``{ce_true, ce_null, ce_shuffled, gain_null, gain_shuffled}`` (nats per token) of a
    separator checkpoint on ``items`` crops of ``dataset`` (``seconds``: default the checkpoint's
    training crop length); ``per_stem``: ``{"all": those, stem: the same over its tokens alone}``."""
    path = resolve_checkpoint(checkpoint)
    separator = GenerativeSeparator.from_pretrained(path, device=device, registry=registry)
    try:
        config = SeparatorTrainingConfig.model_validate(read_json(path, "config")["task"])
    except (KeyError, ValueError) as err:
        raise CheckpointError(f"{path / 'config.json'}: not a separator training config ({str(err).splitlines()[0]})") from None
    task = SeparatorTask(separator.pipeline, config, dataset.sample_rate)
    held_out = held_out_items(dataset, config.model.stems, seconds or config.augment.seconds, items, seed)
    with torch.no_grad():
        if not per_stem:
            return task.conditioning(held_out, batch_size, separator.device)
        scores = task.conditioning_by_stem(held_out, batch_size, separator.device, [None, *config.model.stems])
    return {("all" if stem is None else stem): value for stem, value in scores.items()}


def run(args: argparse.Namespace) -> int:
    registry = load_registry()
    dataset = open_dataset(args.data, args.data_config, args.split, registry)
    scores = measure_conditioning(
        args.checkpoint, dataset, args.items, args.seconds, args.batch_size, args.seed, args.device, registry, args.per_stem
    )
    if args.json:
        print(json.dumps(scores))
        return 0
    if args.per_stem:
        scopes = list(scores)
        print(f"{'':<14} " + " ".join(f"{scope:>9}" for scope in scopes))
        for name in scores["all"]:
            print(f"{name:<14} " + " ".join(f"{scores[scope][name]:>9.4f}" for scope in scopes))
    else:
        for name, value in scores.items():
            print(f"{name:<14} {value:.4f}")
    print("(nats per token; gain = ce with the null or shuffled condition minus ce with the true one)")
    return 0
