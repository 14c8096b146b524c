"""How often each stem of a multitrack folder is (digitally) silent: the share of 20-ms frames more
than 80 dB below the stem's own peak, averaged over the songs where the stem plays, plus the
share more than 50 dB below. A lead rendered note by note with nothing between the notes shows
up here (docs/data.md, "The vocal chain").

    .venv/bin/python scripts/stem_gaps.py FOLDER [FOLDER ...] [--songs N]

FOLDER holds song folders ``SONG/{vocals,drums,bass,other}.{wav,flac}`` (a corpus split such as
``runs/corpus-44k-x8/train``); the first ``--songs`` of them, sorted by name, are read.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import soundfile as sf

from tokensep_core import STEMS

FRAME_SECONDS = 0.02
SILENT_BELOW_PEAK_DB = -80.0
QUIET_BELOW_PEAK_DB = -50.0
PLAYS_DBFS = -100.0  # a stem whose peak frame is below this does not play in the song


def stem_file(song: Path, stem: str) -> Path | None:
    return next((song / f"{stem}.{ext}" for ext in ("wav", "flac") if (song / f"{stem}.{ext}").is_file()), None)


def frame_levels_db(path: Path) -> np.ndarray:
    """RMS of each 20-ms frame of the channels' mean, in dB below the loudest frame -> ``[F]``
    (empty when the stem is silent throughout)."""
    audio, rate = sf.read(path, dtype="float64", always_2d=True)
    mono = audio.mean(axis=1)
    size = int(FRAME_SECONDS * rate)
    frames = mono[: len(mono) // size * size].reshape(-1, size)
    rms = np.sqrt(np.mean(frames**2, axis=1))
    if rms.size == 0 or 20 * np.log10(rms.max() + 1e-300) < PLAYS_DBFS:
        return np.empty(0)
    return 20 * np.log10(np.maximum(rms, 1e-300) / rms.max())


def folder_gaps(folder: Path, songs: int) -> dict[str, tuple[int, float, float]]:
    """``{stem: (songs where it plays, mean silent share, mean quiet share)}``."""
    shares: dict[str, list[tuple[float, float]]] = {stem: [] for stem in STEMS}
    for song in sorted(p for p in folder.iterdir() if p.is_dir())[:songs]:
        for stem in STEMS:
            path = stem_file(song, stem)
            if path is None:
                raise SystemExit(f"stem_gaps: {song} has no {stem}.wav or {stem}.flac")
            levels = frame_levels_db(path)
            if levels.size:
                shares[stem].append((float(np.mean(levels < SILENT_BELOW_PEAK_DB)), float(np.mean(levels < QUIET_BELOW_PEAK_DB))))
    return {stem: (len(v), *(np.mean(v, axis=0) if v else (float("nan"), float("nan")))) for stem, v in shares.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path, metavar="FOLDER")
    parser.add_argument("--songs", type=int, default=10**9, help="read the first N songs of each folder (default all)")
    args = parser.parse_args(argv)
    print(
        "    "
        + " ".join(["python scripts/stem_gaps.py", *map(str, args.folders), *(["--songs", str(args.songs)] if args.songs < 10**9 else [])])
    )
    print(f"| folder | stem | songs | frames < {SILENT_BELOW_PEAK_DB:g} dB of peak | < {QUIET_BELOW_PEAK_DB:g} dB |")
    print("|---|---|---|---|---|")
    for folder in args.folders:
        if not folder.is_dir():
            print(f"stem_gaps: {folder}: no such folder", file=sys.stderr)
            return 1
        for stem, (count, silent, quiet) in folder_gaps(folder, args.songs).items():
            print(f"| {folder} | {stem} | {count} | {silent:.3f} | {quiet:.3f} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
