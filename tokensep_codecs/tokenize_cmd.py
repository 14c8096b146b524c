"""``tokensep tokenize CHECKPOINT DATA OUT``: cache the codec codes of every stem and mixture of a
dataset in shards (resumable), for training the separator from tokens (the ``tokens:`` section of a separator training config)."""

from __future__ import annotations

import argparse
from pathlib import Path

from tokensep_codecs.inference import load_codec
from tokensep_codecs.tokenize import tokenize
from tokensep_core.config import read_config_file
from tokensep_core.data.open_dataset import open_dataset
from tokensep_core.errors import ConfigError
from tokensep_core.interfaces import StemDataset
from tokensep_core.plugins import load_registry
from tokensep_core.registry import ComponentRegistry
from tokensep_core.runtime.device import resolve_device

FOLDER_SPLITS: tuple[str, ...] = ("train", "valid", "test")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("checkpoint", metavar="CHECKPOINT", help="codec training checkpoint (step_… or run directory: its latest)")
    parser.add_argument(
        "data", metavar="DATA", nargs="?", help="MUSDB18-HQ-layout folder (DATA/{train,test}/SONG/*.wav); or use --data-config"
    )
    parser.add_argument("out", metavar="OUT", help="output folder (index.json + shards/); re-running resumes it")
    parser.add_argument(
        "--data-config",
        help="YAML/TOML/JSON file with a dataset spec {name: ..., params: {...}}; its songs form split --splits (default train)",
    )
    parser.add_argument("--splits", help=f"comma-separated splits of DATA (default: those of {','.join(FOLDER_SPLITS)} that have songs)")
    parser.add_argument("--songs-per-shard", type=int, default=16, help="songs per shard file (default 16)")
    parser.add_argument(
        "--segment-seconds", type=float, default=30.0, help="songs are encoded in segments of this length (bounded memory; default 30)"
    )
    parser.add_argument("-d", "--device", default="auto", help="device: auto (default), cpu, cuda, …")
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def load_splits(args: argparse.Namespace, registry: ComponentRegistry) -> dict[str, StemDataset]:
    """``{split: dataset}`` at the files' own sample rate."""
    requested = [s.strip() for s in args.splits.split(",") if s.strip()] if args.splits else None
    if args.data_config is not None:
        if args.data is not None:
            raise ConfigError("give either DATA (a dataset folder) or --data-config FILE")
        if requested is not None and len(requested) != 1:
            raise ConfigError("--splits: name one split for the songs of --data-config")
        return {(requested or ["train"])[0]: open_dataset(None, args.data_config, "train", registry)}
    datasets = {}
    for split in requested or FOLDER_SPLITS:
        try:
            datasets[split] = open_dataset(args.data, None, split, registry)
        except ConfigError:
            if requested is not None:
                raise  # a split asked for by name must exist; the default takes the ones present
    if not datasets:
        raise ConfigError(f"{args.data}: no songs in any of the splits {', '.join(FOLDER_SPLITS)}")
    return datasets


def run(args: argparse.Namespace) -> int:
    if args.songs_per_shard < 1:
        raise ConfigError("--songs-per-shard must be at least 1")
    registry = load_registry()
    loaded = load_codec(registry, checkpoint=args.checkpoint, device=resolve_device(args.device))
    datasets = load_splits(args, registry)
    source = {"data": str(Path(args.data).resolve()) if args.data else read_config_file(args.data_config), "splits": list(datasets)}
    index = tokenize(loaded, datasets, args.out, source, args.songs_per_shard, args.segment_seconds, progress=not args.no_progress)
    print(f"tokensep: {len(index['songs'])} songs tokenized into {args.out}")
    return 0
