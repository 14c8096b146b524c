"""``tokensep separate FILES... -o OUT``: the demucs-style command line of the generative separator."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from tqdm import tqdm

from tokensep_core.audio.io import AUDIO_EXTENSIONS
from tokensep_core.errors import AudioError, ConfigError, TokensepError
from tokensep_core.separation.separator import GenerativeSeparator


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("inputs", nargs="+", metavar="FILE", help="audio files or folders (searched recursively)")
    parser.add_argument("-n", "--model", required=True, help="separator checkpoint: a step_… directory or a run directory (its latest)")
    parser.add_argument("-o", "--out", default="separated", help="output root (default: separated)")
    parser.add_argument(
        "--filename", default="{track}/{stem}.{ext}", help="output path under OUT/MODEL; keys {track} {trackext} {stem} {ext}"
    )
    parser.add_argument("--stems", help="comma-separated stems to generate (default: all)")
    parser.add_argument("--segment", type=float, help="segment length in seconds (default: the model's)")
    parser.add_argument("--overlap", type=float, help="overlap between segments, a fraction in [0, 1)")
    parser.add_argument("--batch-size", type=int, help="segments generated together")
    parser.add_argument("-d", "--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:1, mps")
    parser.add_argument("--seed", type=int, help="sampling seed (same seed, same stems)")
    parser.add_argument(
        "--bf16",
        action="store_true",
        help="compute encoder and LM in bfloat16: faster on CPUs with AMX and on GPUs; close to, not bit-identical with, float32",
    )
    sampling = parser.add_argument_group("sampling")
    sampling.add_argument("--greedy", action="store_true", help="always take the most likely code")
    sampling.add_argument("--temperature", type=float)
    sampling.add_argument("--top-k", type=int)
    sampling.add_argument("--top-p", type=float)
    sampling.add_argument("--min-p", type=float)
    sampling.add_argument("--cfg-scale", type=float, help="classifier-free guidance scale (1: off)")
    sampling.add_argument("--passes", help="masked LM only: passes per codebook level, the last repeated (e.g. 8,1)")
    parser.add_argument("--mixture-consistency", action="store_true", help="adjust the stems so they sum to the mixture")
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--int24", action="store_true", help="write 24-bit WAV")
    fmt.add_argument("--float32", action="store_true", help="write 32-bit float WAV")
    parser.add_argument("--flac", action="store_true", help="write FLAC instead of WAV")


def collect_inputs(paths: list[str]) -> list[Path]:
    """Audio files named directly or found (recursively, sorted) in named folders."""
    files: list[Path] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found = sorted(p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS)
            if not found:
                raise AudioError(f"{path}: folder holds no audio files ({', '.join(AUDIO_EXTENSIONS)})")
            files.extend(found)
        else:
            files.append(path)
    return files


def _inference_overrides(args: argparse.Namespace, separator: GenerativeSeparator) -> None:
    sampling = {
        k: v
        for k, v in {
            "temperature": args.temperature,
            "top_k": args.top_k,
            "top_p": args.top_p,
            "min_p": args.min_p,
            "cfg_scale": args.cfg_scale,
        }.items()
        if v is not None
    }
    if args.greedy:
        sampling["greedy"] = True
    updates = {
        k: v
        for k, v in {
            "segment_seconds": args.segment,
            "overlap": args.overlap,
            "batch_size": args.batch_size,
            "seed": args.seed,
        }.items()
        if v is not None
    }
    if args.mixture_consistency:
        updates["mixture_consistency"] = True
    if args.bf16:
        updates["dtype"] = "bfloat16"
    if args.passes is not None:
        try:
            updates["passes"] = [int(n) for n in args.passes.split(",")]
        except ValueError:
            raise ConfigError(f"--passes {args.passes!r}: expected comma-separated counts, e.g. 8,1") from None
    separator.update_inference({**updates, "sampling": sampling}, "separation option")


def output_path(root: Path, model: str, pattern: str, track: Path, stem: str, ext: str) -> Path:
    """Where one stem of one track goes, refusing patterns that escape the output folder."""
    try:
        relative = pattern.format(track=track.stem, trackext=track.name, stem=stem, ext=ext)
    except (KeyError, IndexError) as err:
        raise ConfigError(f"--filename {pattern!r}: unknown key {err}") from None
    path = (root / model / relative).resolve()
    if not path.is_relative_to((root / model).resolve()):
        raise ConfigError(f"--filename {pattern!r} leads outside {root / model}")
    return path


def check_writable(folder: Path) -> None:
    """Fail before any work when ``folder`` cannot be created or written: its nearest existing
    ancestor must be a writable folder."""
    existing = folder.absolute()
    while not existing.exists():
        existing = existing.parent
    if not existing.is_dir():
        raise AudioError(f"{folder}: cannot write here ({existing} is a file, not a folder)")
    if not os.access(existing, os.W_OK | os.X_OK):
        raise AudioError(f"{folder}: cannot write here ({existing} is not writable)")


def run(args: argparse.Namespace) -> int:
    check_writable(Path(args.out))
    separator = GenerativeSeparator.from_pretrained(args.model, device=args.device)
    _inference_overrides(args, separator)
    stems = tuple(args.stems.split(",")) if args.stems else separator.stems
    model_name = Path(args.model).resolve().name
    if model_name.startswith("step_"):
        model_name = Path(args.model).resolve().parent.parent.name
    ext = "flac" if args.flac else "wav"
    subtype = "FLOAT" if args.float32 else "PCM_24" if args.int24 else "PCM_16"
    if args.flac and args.float32:
        raise ConfigError("--flac cannot store 32-bit float; use --int24 or WAV")
    root = Path(args.out)
    print(f"tokensep: model {args.model} on {separator.device}; stems {', '.join(stems)}", file=sys.stderr)
    failures = 0
    files = collect_inputs(args.inputs)
    for track in tqdm(files, desc="songs", unit="song", disable=len(files) < 2):
        try:
            targets = {stem: output_path(root, model_name, args.filename, track, stem, ext) for stem in stems}
            separator.separate_file(track, targets, subtype, progress=True)
            tqdm.write(f"{track} -> {targets[stems[0]].parent}")
        except TokensepError as err:
            failures += 1
            tqdm.write(f"tokensep: error: {err}", file=sys.stderr)
    return 1 if failures else 0
