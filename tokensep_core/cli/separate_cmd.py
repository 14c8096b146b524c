"""``tokensep separate FILES... -o OUT``: the demucs-style command line of the generative separator."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from tqdm import tqdm

from tokensep_core.audio.io import AUDIO_EXTENSIONS
from tokensep_core.errors import AudioError, ConfigError, TokensepError
from tokensep_core.lm.sampling import DRAW_SETTINGS
from tokensep_core.separation.separator import GenerativeSeparator, InferenceConfig


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = InferenceConfig()
    draw = defaults.sampling

    def stored(value: object) -> str:
        return f"(default: the model's stored setting; {'off' if value is None else value} when it stores none)"

    parser.add_argument("inputs", nargs="+", metavar="FILE", help="audio files or folders (searched recursively)")
    parser.add_argument("-n", "--model", required=True, help="separator checkpoint: a step_… directory or a run directory (its latest)")
    parser.add_argument("-o", "--out", default="separated", help="output root (default: separated)")
    parser.add_argument(
        "--filename",
        default="{track}/{stem}.{ext}",
        help="output path under OUT/MODEL; keys {track} {trackext} {stem} {ext} (default: {track}/{stem}.{ext})",
    )
    parser.add_argument("--stems", help="comma-separated stems to generate (default: all)")
    segments = parser.add_argument_group("segments")
    segments.add_argument("--segment", type=float, help=f"segment length in seconds {stored(defaults.segment_seconds)}")
    segments.add_argument("--overlap", type=float, help=f"overlap between segments, a fraction in [0, 1) {stored(defaults.overlap)}")
    segments.add_argument("--batch-size", type=int, help=f"segments generated together {stored(defaults.batch_size)}")
    parser.add_argument("-d", "--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:1, mps (default: auto)")
    parser.add_argument(
        "--bf16",
        action="store_true",
        help="compute encoder and LM in bfloat16: faster on CPUs with AMX and on GPUs; close to, not bit-identical with, float32",
    )
    sampling = parser.add_argument_group(
        "sampling",
        "A sampling option (--temperature, --top-k, --top-p, --min-p) turns greedy decoding off unless --greedy is given, "
        "which is then an error: greedy decoding draws nothing, so it reads none of them, nor --seed. "
        "--no-greedy samples with the model's stored settings.",
    )
    sampling.add_argument(
        "--greedy",
        action=argparse.BooleanOptionalAction,
        help="always take the most likely code, or (--no-greedy) draw codes (default: the model's stored setting)",
    )
    sampling.add_argument("--seed", type=int, help=f"sampling seed: same seed, same stems {stored(defaults.seed)}")
    sampling.add_argument("--temperature", type=float, help=f"divides the logits before the draw {stored(draw.temperature)}")
    sampling.add_argument("--top-k", type=int, help=f"draw among the k most likely codes {stored(draw.top_k)}")
    sampling.add_argument("--top-p", type=float, help=f"draw among the most likely codes that reach this probability {stored(draw.top_p)}")
    sampling.add_argument("--min-p", type=float, help=f"drop codes less likely than this fraction of the most likely {stored(draw.min_p)}")
    sampling.add_argument(
        "--cfg-scale", type=float, help=f"classifier-free guidance scale, 1: off; also with --greedy {stored(draw.cfg_scale)}"
    )
    sampling.add_argument(
        "--passes",
        help="masked LM only: passes per codebook level, the last repeated, e.g. 8,1 (default: the model's stored setting, else the LM's own)",
    )
    parser.add_argument(
        "--mixture-consistency",
        nargs="?",
        const="shift",
        choices=("off", "shift", "mask"),
        help="make the stems sum to the mixture: shift (the default when given without a value: add the residual equally) "
        "or mask (split the mixture's spectrogram by the generated stems' soft masks); default: the model's stored setting",
    )
    fmt = parser.add_mutually_exclusive_group()
    fmt.add_argument("--int24", action="store_true", help="write 24-bit WAV (default: 16-bit WAV)")
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


DRAW_FLAGS = {name: "--" + name.replace("_", "-") for name in DRAW_SETTINGS}
"""The command-line flags of the sampling settings only a draw reads."""


def sampling_overrides(args: argparse.Namespace, stored_greedy: bool) -> dict[str, object]:
    """The ``sampling`` overrides of the command line. A draw setting turns greedy decoding off
    unless ``--greedy`` is given; draw settings or ``--seed`` with greedy decoding (asked for, or
    the model's stored setting) are refused, since greedy decoding reads neither."""
    sampling: dict[str, object] = {name: getattr(args, name) for name in DRAW_SETTINGS if getattr(args, name) is not None}
    greedy = args.greedy if args.greedy is not None else stored_greedy and not sampling
    if greedy:
        unused = [DRAW_FLAGS[name] for name in sampling] + (["--seed"] if args.seed is not None else [])
        if unused:
            verb = "has" if len(unused) == 1 else "have"
            why = "--greedy" if args.greedy else "greedy decoding (the model's stored setting; add --no-greedy to sample)"
            raise ConfigError(f"{', '.join(unused)} {verb} no effect with {why}")
    if args.cfg_scale is not None:
        sampling["cfg_scale"] = args.cfg_scale
    return {**sampling, "greedy": greedy}


def _inference_overrides(args: argparse.Namespace, separator: GenerativeSeparator) -> None:
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
    if args.mixture_consistency is not None:
        updates["mixture_consistency"] = args.mixture_consistency
    if args.bf16:
        updates["dtype"] = "bfloat16"
    if args.passes is not None:
        try:
            updates["passes"] = [int(n) for n in args.passes.split(",")]
        except ValueError:
            raise ConfigError(f"--passes {args.passes!r}: expected comma-separated counts, e.g. 8,1") from None
    sampling = sampling_overrides(args, separator.inference.sampling.greedy)
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
