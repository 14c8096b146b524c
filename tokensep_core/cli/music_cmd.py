"""``tokensep data music``: real mixed music without stems (game soundtracks from Debian
packages) cut into excerpts, for codec training (docs/data.md)."""

from __future__ import annotations

import argparse
import math

from tokensep_core.data.music_corpus import build_music_corpus, package_table
from tokensep_core.data.music_sources import MUSIC_PACKAGES


def add_arguments(parser: argparse.ArgumentParser) -> None:
    defaults = ", ".join(p.name for p in MUSIC_PACKAGES if p.default)
    optional = ", ".join(p.name for p in MUSIC_PACKAGES if not p.default)
    parser.add_argument("out", metavar="OUT", help="output folder (OUT/{train,test}/EXCERPT/mixture.flac, manifest.csv, licences/)")
    parser.add_argument("--cache", default=None, help="where packages are downloaded and unpacked (default: .OUT-sources beside OUT)")
    parser.add_argument(
        "--packages", nargs="+", default=None, metavar="PACKAGE", help=f"Debian packages to use (default: {defaults}; also: {optional})"
    )
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each excerpt (default 10)")
    parser.add_argument("--sample-rate", type=int, default=44100, help="sample rate in Hz (default 44100)")
    parser.add_argument("--test-fraction", type=float, default=0.1, help="share of each package's tracks held out as test (default 0.1)")
    parser.add_argument("--seed", type=int, default=0, help="seed of the held-out tracks (default 0)")
    parser.add_argument(
        "--format",
        dest="audio_format",
        choices=("wav", "flac"),
        default="flac",
        help="excerpt files: 24-bit .flac (default) or 32-bit float .wav",
    )
    parser.add_argument("--no-progress", action="store_true", help="no progress bar")


def run(args: argparse.Namespace) -> int:
    summary = build_music_corpus(
        args.out,
        cache=args.cache,
        packages=args.packages,
        seconds=args.seconds,
        sample_rate=args.sample_rate,
        test_fraction=args.test_fraction,
        seed=args.seed,
        audio_format=args.audio_format,
        progress=not args.no_progress,
    )
    for row in package_table(summary, args.seconds):
        level = "" if math.isnan(row["rms_dbfs"]) else f", median {row['rms_dbfs']:.1f} dBFS, centroid {row['centroid_hz']:.0f} Hz"
        print(
            f"  {row['package']}: {row['excerpts']} excerpts ({row['test']} test), {row['hours']:.2f} h from {row['tracks']} tracks, "
            f"source rates {'/'.join(map(str, row['rates'])) or '-'} Hz, {row['mono']} mono, {row['skipped']} skipped, "
            f"{row['silent']} silent excerpts dropped{level}"
        )
    for track in summary.undecodable():
        print(f"  skipped, could not decode: {track.skipped.removeprefix('undecodable: ')}")
    splits = summary.splits()
    print(
        f"{args.out}: {summary.written} excerpts written, {summary.kept} already there (train {splits['train']}, test {splits['test']}; "
        f"{args.seconds:g} s at {args.sample_rate} Hz stereo), {len(summary.undecodable())} undecodable tracks skipped"
    )
    return 0
