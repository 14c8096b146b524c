"""``tokensep demo``: the README's main job on a built-in default.

Renders a few held-out synthetic songs, separates them with a trained separator (by default the
one committed under ``pretrained/``), and prints per-stem scores next to the mixture-copy
baseline (every stem estimated as the mixture).
"""

from __future__ import annotations

import argparse
import math
import time
from pathlib import Path

from tokensep_core.errors import ConfigError
from tokensep_core.plugins import load_registry
from tokensep_core.separation.separator import GenerativeSeparator

REPO_ROOT = Path(__file__).resolve().parents[2]
DEFAULT_MODEL = REPO_ROOT / "pretrained" / "separator-small"
METRICS = ("mel_distance", "si_sdr")


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "-n", "--model", default=str(DEFAULT_MODEL), help="separator checkpoint or model directory (default: the committed separator-small)"
    )
    parser.add_argument("--songs", type=int, default=2, help="held-out songs to render and separate")
    parser.add_argument("--seconds", type=float, default=6.0, help="length of each song")
    parser.add_argument("--seed", type=int, default=777, help="seed of the rendered songs (the model was trained on other seeds)")
    parser.add_argument("-d", "--device", default="auto", help="auto, cpu, cuda, mps")


def run(args: argparse.Namespace) -> int:
    if not Path(args.model).exists():
        raise ConfigError(f"{args.model}: no such model; train one with benchmarks/separator_small/run.sh or pass -n")
    started = time.perf_counter()
    separator = GenerativeSeparator.from_pretrained(args.model, device=args.device)
    registry = load_registry()
    renderer = registry.build("renderer", "procedural")
    metrics = {name: registry.build("metric", name) for name in METRICS}
    sample_rate = separator.sample_rate
    print(f"model    {args.model} on {separator.device} ({separator.sample_rate} Hz, stems {', '.join(separator.stems)})")
    scores: dict[tuple[str, str, str], list[float]] = {}
    audio_seconds = separation_seconds = 0.0
    for song in range(args.songs):
        stems = {k: v for k, v in renderer.render(args.seed + song, args.seconds, sample_rate).items() if k in separator.stems}
        mixture = sum(stems.values())
        clock = time.perf_counter()
        estimates = separator.separate(mixture, sample_rate)
        separation_seconds += time.perf_counter() - clock
        audio_seconds += mixture.shape[-1] / sample_rate
        for stem, reference in stems.items():
            for system, estimate in (("tokensep", estimates[stem]), ("mixture copy", mixture)):
                for name, metric in metrics.items():
                    scores.setdefault((stem, system, name), []).append(metric(reference, estimate, sample_rate))
    print(f"songs    {args.songs} held-out synthetic songs of {args.seconds:g} s (procedural renderer, seeds {args.seed}…)")
    print(f"speed    real-time factor {separation_seconds / audio_seconds:.2f} (separation wall time / audio time)\n")
    header = f"{'stem':<8} {'system':<14}" + "".join(f"{name:>14}" for name in METRICS)
    print(header + "\n" + "-" * len(header))
    for stem in separator.stems:
        for system in ("tokensep", "mixture copy"):
            row = "".join(f"{_mean(scores[(stem, system, name)]):>14.3f}" for name in METRICS)
            print(f"{stem:<8} {system:<14}{row}")
    print(f"\nmel_distance: lower is better; si_sdr (dB): higher is better. Total {time.perf_counter() - started:.0f} s.")
    return 0


def _mean(values: list[float]) -> float:
    finite = [v for v in values if math.isfinite(v)]
    return sum(finite) / len(finite) if finite else math.nan
