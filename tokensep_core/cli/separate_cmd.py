"""``tokensep separate FILES... -o OUT``: the demucs-style command line of the generative separator.

A named model that a plugin builds (any Separator, e.g. htdemucs) separates each file in one piece
with the same outputs; the generative model's own flags are refused for it.

Importing this module and declaring its arguments import no torch (the defaults shown in the
help come from the pydantic-only InferenceConfig); ``run`` imports the separator.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from tokensep_core.errors import AudioError, ConfigError, TokensepError
from tokensep_core.lm.sampling_config import DRAW_SETTINGS
from tokensep_core.separation.inference import InferenceConfig
from tokensep_core.separation.models import DEFAULT_MODEL, find_model

if TYPE_CHECKING:
    from tokensep_core.interfaces import Separator
    from tokensep_core.separation.separator import GenerativeSeparator

MAX_SEGMENT_SECONDS = 600.0


INPUT_HELP = (
    "audio files or folders (searched recursively). WAV, FLAC, OGG, AIFF and MP3 are read by libsndfile; "
    "anything else ffmpeg decodes (m4a, aac, opus, …) is decoded by ffmpeg"
)


def positive_seconds(text: str) -> float:
    """``--segment``: seconds, positive and at most the 10 minutes a segment may last."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected seconds, got {text!r}") from None
    if not 0 < value <= MAX_SEGMENT_SECONDS:
        raise argparse.ArgumentTypeError(f"{text} s: a segment lasts more than 0 and at most {MAX_SEGMENT_SECONDS:g} seconds")
    return value


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"{text}: must be at least 1")
    return value


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = InferenceConfig()
    draw = defaults.sampling

    def stored(value: object) -> str:
        return f"(default: the model's stored setting; {'off' if value is None else value} when it stores none)"

    parser.add_argument("inputs", nargs="+", metavar="FILE", help=INPUT_HELP)
    parser.add_argument(
        "-n",
        "--model",
        default=DEFAULT_MODEL,
        help=f"a model name (shipped in pretrained/ or registered by a plugin; `tokensep plugins` lists them) or a separator "
        f"checkpoint: a step_… directory or a run directory (its latest) (default: {DEFAULT_MODEL})",
    )
    parser.add_argument("-o", "--out", default="separated", help="output root (default: separated)")
    parser.add_argument(
        "--filename",
        default="{track}/{stem}.{ext}",
        help="output path under OUT/MODEL; keys {track} (file name without extension) {trackext} (its extension) {stem} {ext}; "
        "two outputs on one path are refused (default: {track}/{stem}.{ext})",
    )
    stems = parser.add_mutually_exclusive_group()
    stems.add_argument("--stems", help="comma-separated stems to generate (default: all the model separates)")
    stems.add_argument("--two-stems", metavar="STEM", help="write STEM and no_STEM, the mixture minus STEM (the two sum to the mixture)")
    segments = parser.add_argument_group("segments")
    segments.add_argument(
        "--segment",
        type=positive_seconds,
        help=f"segment length in seconds {stored(defaults.segment_seconds)}; at most {MAX_SEGMENT_SECONDS:g}, and one longer than "
        "the model's training crops gets a warning",
    )
    segments.add_argument("--overlap", type=float, help=f"overlap between segments, a fraction in [0, 1) {stored(defaults.overlap)}")
    segments.add_argument("--batch-size", type=positive_int, help=f"segments generated together {stored(defaults.batch_size)}")
    parser.add_argument("-d", "--device", default="auto", help="auto (cuda, then mps, then cpu), cpu, cuda, cuda:1, mps (default: auto)")
    parser.add_argument(
        "-j",
        "--jobs",
        type=positive_int,
        help="CPU threads torch computes with (torch.set_num_threads; default: torch's own choice)",
    )
    parser.add_argument(
        "--bf16",
        action="store_true",
        help="compute encoder and LM in bfloat16: faster on CPUs with AMX and on GPUs; close to, not bit-identical with, float32",
    )
    sampling = parser.add_argument_group(
        "sampling",
        "A sampling option (--temperature, --top-k, --top-p, --min-p) turns greedy decoding off unless --greedy is given, "
        "which is then an error: greedy decoding draws nothing, so it reads none of them, nor --seed or --shifts. "
        "--no-greedy samples with the model's stored settings.",
    )
    sampling.add_argument(
        "--greedy",
        action=argparse.BooleanOptionalAction,
        help="always take the most likely code, or (--no-greedy) draw codes (default: the model's stored setting)",
    )
    sampling.add_argument("--seed", type=int, help=f"sampling seed: same seed, same stems {stored(defaults.seed)}")
    sampling.add_argument(
        "--shifts",
        type=positive_int,
        help="average N draws per segment, each with its own seed (demucs's --shifts averages shifted passes; a generative "
        "model averages independent samples instead); N times slower (default: 1)",
    )
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
        choices=("off", "shift", "mask", "decoder"),
        help="make the stems sum to the mixture: shift (the default when given without a value: add the residual equally), "
        "mask (split the mixture's spectrogram by the generated stems' soft masks) or decoder (a trained mixture decoder "
        "refines that split: --mixture-decoder); default: the model's stored setting",
    )
    parser.add_argument(
        "--mixture-decoder",
        metavar="DIR",
        help="with --mixture-consistency decoder: a `tokensep train mixture_decoder` run or step directory "
        "(default: the model's stored setting)",
    )
    parser.add_argument(
        "--stereo",
        choices=("per_channel", "mid"),
        help="with a mono codec: per_channel (generate every channel on its own) or mid (generate once from the channels' "
        "mean and give those stems to every channel: half the work; --mixture-consistency mask or decoder then splits "
        f"each channel of the mixture, keeping its stereo image) {stored(defaults.stereo)}",
    )
    output = parser.add_argument_group("output format")
    fmt = output.add_mutually_exclusive_group()
    fmt.add_argument("--int24", action="store_true", help="write 24-bit WAV/FLAC (default: 16-bit)")
    fmt.add_argument("--float32", action="store_true", help="write 32-bit float WAV")
    container = output.add_mutually_exclusive_group()
    container.add_argument("--flac", action="store_true", help="write FLAC instead of WAV")
    container.add_argument("--mp3", action="store_true", help="write MP3 (ffmpeg's libmp3lame) instead of WAV")
    output.add_argument("--mp3-bitrate", type=int, default=320, help="MP3 bitrate in kbps, 8-320 (default: 320)")
    output.add_argument(
        "--mp3-preset", type=int, default=2, choices=range(2, 8), metavar="{2..7}", help="LAME quality, 2 best, 7 fastest (default: 2)"
    )
    output.add_argument(
        "--clip-mode",
        choices=("rescale", "clamp", "none"),
        default="rescale",
        help="keep stems within [-1, 1]: rescale (divide a stem by 1.01 x its peak when that passes 1, as demucs), clamp, "
        "or none (as generated; 16/24-bit and MP3 still saturate at ±1) (default: rescale)",
    )


def collect_inputs(paths: list[str]) -> tuple[list[Path], list[str]]:
    """Audio files named directly or found (recursively, sorted, hidden files skipped) in named
    folders, and one error per folder that holds none."""
    from tokensep_core.audio.io import INPUT_EXTENSIONS

    files: list[Path] = []
    errors: list[str] = []
    for name in paths:
        path = Path(name)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and p.suffix.lower() in INPUT_EXTENSIONS
                and not any(part.startswith(".") for part in p.relative_to(path).parts)
            )
            if not found:
                errors.append(f"{path}: folder holds no audio files ({', '.join(INPUT_EXTENSIONS)})")
            files.extend(found)
        else:
            files.append(path)
    return files, errors


def parse_stems(text: str) -> list[str]:
    """``--stems`` as a list of names; an empty name (``--stems ,``) is an error."""
    names = [name.strip() for name in text.split(",")]
    if not all(names):
        raise ConfigError(f"--stems {text!r}: expected comma-separated stem names, e.g. vocals,drums")
    return names


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
        unused += ["--shifts"] if (args.shifts or 1) > 1 else []
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
            "shifts": args.shifts,
        }.items()
        if v is not None
    }
    if args.mixture_consistency is not None:
        updates["mixture_consistency"] = args.mixture_consistency
    if args.mixture_decoder is not None:
        updates["mixture_decoder"] = args.mixture_decoder
    if args.stereo is not None:
        updates["stereo"] = args.stereo
    if args.bf16:
        updates["dtype"] = "bfloat16"
    if args.passes is not None:
        try:
            updates["passes"] = [int(n) for n in args.passes.split(",")]
        except ValueError:
            raise ConfigError(f"--passes {args.passes!r}: expected comma-separated counts, e.g. 8,1") from None
    sampling = sampling_overrides(args, separator.inference.sampling.greedy)
    separator.update_inference({**updates, "sampling": sampling}, "separation option")


GENERATIVE_FLAGS: dict[str, str] = {
    "segment": "--segment",
    "overlap": "--overlap",
    "batch_size": "--batch-size",
    "bf16": "--bf16",
    "greedy": "--greedy/--no-greedy",
    "seed": "--seed",
    "shifts": "--shifts",
    **DRAW_FLAGS,
    "cfg_scale": "--cfg-scale",
    "passes": "--passes",
    "mixture_consistency": "--mixture-consistency",
    "stereo": "--stereo",
    "mixture_decoder": "--mixture-decoder",
}
"""``args`` attribute -> flag, for the flags only the generative separator reads."""


def refuse_generative_flags(args: argparse.Namespace, model: str) -> None:
    """A one-line error naming the first generative-only flag given for a built (non-generative) model."""
    for name, flag in GENERATIVE_FLAGS.items():
        value = getattr(args, name, None)
        if value is not None and not (name == "bf16" and value is False):  # --no-greedy is False, and given
            raise ConfigError(f"{flag} applies to the generative separator only, not to model {model!r}")


def output_path(root: Path, model: str, pattern: str, track: Path, stem: str, ext: str) -> Path:
    """Where one stem of one track goes, refusing patterns that escape the output folder.
    ``{trackext}`` is the track's extension without the dot, as in demucs."""
    try:
        relative = pattern.format(track=track.stem, trackext=track.suffix.lstrip("."), stem=stem, ext=ext)
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


def plan_outputs(root: Path, model: str, pattern: str, tracks: list[Path], names: list[str], ext: str) -> dict[Path, dict[str, Path]]:
    """``{track: {stem: output file}}`` for every track, refusing (before any work) a pattern
    that sends two outputs to one file, whether two stems of a track or two tracks' stems."""
    plan: dict[Path, dict[str, Path]] = {}
    owners: dict[Path, tuple[Path, str]] = {}
    for track in tracks:
        targets = {name: output_path(root, model, pattern, track, name, ext) for name in names}
        for name, target in targets.items():
            if target in owners:
                other, other_name = owners[target]
                if other == track and other_name == name:
                    raise ConfigError(f"{track} is given twice (directly or inside a folder)")
                hint = (
                    "add {stem} to --filename"
                    if other == track
                    else "the tracks share a name: add {trackext} to --filename, or separate them apart"
                )
                raise ConfigError(f"{other} {other_name} and {track} {name} would both be written to {target}; {hint}")
            owners[target] = (track, name)
        plan[track] = targets
    return plan


def run(args: argparse.Namespace) -> int:
    import torch
    from tqdm import tqdm

    from tokensep_core.audio.io import Mp3Settings
    from tokensep_core.plugins import load_plugins
    from tokensep_core.separation.separator import GenerativeSeparator
    from tokensep_core.separation.whole_file import separate_whole_file

    check_writable(Path(args.out))
    requested = parse_stems(args.stems) if args.stems is not None else None
    if args.flac and args.float32:
        raise ConfigError("--flac cannot store 32-bit float; use --int24 or WAV")
    if args.mp3 and (args.int24 or args.float32):
        raise ConfigError("--int24 and --float32 do not apply to --mp3")
    mp3 = Mp3Settings(args.mp3_bitrate, args.mp3_preset)
    if args.mp3 and not 8 <= mp3.bitrate <= 320:
        raise ConfigError(f"--mp3-bitrate {mp3.bitrate}: expected 8-320 kbps")
    if args.jobs is not None:
        torch.set_num_threads(args.jobs)
    subtype = "FLOAT" if args.float32 else "PCM_24" if args.int24 else "PCM_16"
    interactive = sys.stderr.isatty()
    loaded = load_plugins()
    model = find_model(args.model, loaded.models)
    default = " (the default)" if args.model == DEFAULT_MODEL else ""
    if model.build is not None:
        refuse_generative_flags(args, model.name)
        built = model.build(args.device)
        names = _built_stems(built, requested, args.two_stems)
        device = getattr(built, "device", args.device)
        print(f"tokensep: model {model.name}{default} ({model.help}) on {device}; stems {', '.join(names)}", file=sys.stderr)

        def separate(track: Path, targets: dict[str, Path]) -> dict[Path, float]:
            return separate_whole_file(built, track, targets, subtype, clip=args.clip_mode, mp3=mp3)

    else:
        path = model.checkpoint()
        separator = GenerativeSeparator.from_pretrained(path, device=args.device, registry=loaded.registry)
        _inference_overrides(args, separator)
        _warn_long_segment(separator, args)
        if args.two_stems is not None:
            separator.check_stems([args.two_stems])
            names = [args.two_stems, f"no_{args.two_stems}"]
        else:
            names = list(separator.check_stems(requested))
        print(f"tokensep: model {model.name}{default} from {path} on {separator.device}; stems {', '.join(names)}", file=sys.stderr)

        def separate(track: Path, targets: dict[str, Path]) -> dict[Path, float]:
            return separator.separate_file(track, targets, subtype, progress=interactive, clip=args.clip_mode, mp3=mp3)

    ext = "mp3" if args.mp3 else "flac" if args.flac else "wav"
    root = Path(args.out)
    files, errors = collect_inputs(args.inputs)
    for error in errors:
        print(f"tokensep: error: {error}", file=sys.stderr)
    plan = plan_outputs(root, model.name, args.filename, files, names, ext)
    failures = len(errors)
    for track in tqdm(files, desc="songs", unit="song", disable=len(files) < 2 or not interactive):
        targets = plan[track]
        try:
            gains = separate(track, targets)
            tqdm.write(f"{track} -> {targets[names[0]].parent}")
            _note_rescaled(gains)
        except TokensepError as err:
            failures += 1
            tqdm.write(f"tokensep: error: {err}", file=sys.stderr)
    return 1 if failures else 0


def _note_rescaled(gains: dict[Path, float]) -> None:
    """Say which files ``--clip-mode rescale`` turned down: each is scaled on its own, so the
    stems no longer sum to the mixture at their written levels."""
    from tqdm import tqdm

    rescaled = {path: gain for path, gain in gains.items() if gain < 1.0}
    if rescaled:
        levels = ", ".join(f"{path.name} {20 * math.log10(gain):.1f} dB" for path, gain in rescaled.items())
        tqdm.write(
            f"tokensep: note: rescaled to stay within ±1 ({levels}); these stems no longer sum to the mixture "
            "(--clip-mode clamp, or none with --float32, keeps their levels)",
            file=sys.stderr,
        )


def _built_stems(separator: Separator, requested: list[str] | None, two_stems: str | None) -> list[str]:
    """The outputs asked of a built model: ``--two-stems STEM`` -> STEM and no_STEM, ``--stems``,
    or every stem it separates; a stem it does not separate is a one-line error."""
    stems = list(separator.stems)
    names = [two_stems] if two_stems is not None else requested if requested is not None else stems
    unknown = [name for name in names if name not in stems]
    if unknown:
        raise ConfigError(f"unknown stem {unknown[0]!r}; this model separates {', '.join(stems)}")
    if len(set(names)) != len(names):
        raise ConfigError(f"--stems {','.join(names)}: a stem is named twice")
    return [two_stems, f"no_{two_stems}"] if two_stems is not None else names


def _warn_long_segment(separator: GenerativeSeparator, args: argparse.Namespace) -> None:
    """Warn when the segment is longer than the crops the model was trained on."""
    trained = separator.trained_seconds
    if trained is not None and separator.inference.segment_seconds > trained + 1e-9:
        given = "--segment" if args.segment is not None else "the model's stored segment"
        print(
            f"tokensep: warning: {given} {separator.inference.segment_seconds:g} s is longer than the {trained:g} s this model "
            "was trained on; its stems may degrade",
            file=sys.stderr,
        )
