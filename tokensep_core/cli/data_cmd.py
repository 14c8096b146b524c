"""``tokensep data synth``: write a synthetic multitrack dataset."""

from __future__ import annotations

import argparse

from tokensep_core.data.writer import write_synthetic_dataset
from tokensep_core.plugins import load_registry


def add_synth_arguments(synth: argparse.ArgumentParser) -> None:
    synth.add_argument("out", metavar="OUT", help="output folder (OUT/{train,test}/SONG/{mixture,vocals,drums,bass,other}.wav)")
    synth.add_argument("--songs", type=int, default=100, help="number of songs (default 100)")
    synth.add_argument("--seconds", type=float, default=10.0, help="length of each song (default 10)")
    synth.add_argument("--sample-rate", type=int, default=44100, help="sample rate in Hz (default 44100)")
    synth.add_argument("--seed", type=int, default=0, help="dataset seed; the same seed gives the same songs (default 0)")
    synth.add_argument("--renderer", default="procedural", help="registered renderer: procedural (default), soundfont, ...")
    synth.add_argument("--test-fraction", type=float, default=0.2, help="share of songs in the test split (default 0.2)")
    synth.add_argument(
        "--workers", type=int, default=1, help="processes rendering songs in parallel (default 1); the songs do not depend on it"
    )
    synth.add_argument("--no-progress", action="store_true", help="no progress bar")


def run_synth(args: argparse.Namespace) -> int:
    renderer = load_registry().build("renderer", args.renderer, source="--renderer")
    summary = write_synthetic_dataset(
        args.out,
        args.songs,
        args.seconds,
        args.sample_rate,
        args.seed,
        renderer,
        test_fraction=args.test_fraction,
        renderer_name=args.renderer,
        progress=not args.no_progress,
        workers=args.workers,
    )
    print(
        f"{args.out}: {summary.written} songs written, {summary.skipped} already there "
        f"(train {summary.splits['train']}, test {summary.splits['test']}; {args.seconds:g} s at {args.sample_rate} Hz, renderer {args.renderer})"
    )
    return 0
