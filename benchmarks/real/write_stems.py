"""Write the stems one separator row of a grid gives for one song, e.g. an oracle row that
``tokensep separate`` cannot run, so that benchmarks/stem_proxies.py can listen to it by proxy.

Usage: python benchmarks/real/write_stems.py GRID ROW SONG_DIR OUT_DIR [--seed N]
(GRID: a bench grid file; ROW: one of its baselines that names a ``separator``; SONG_DIR: MUSDB
layout, ``mixture.wav`` and the true ``{stem}.wav``; OUT_DIR: written as ``{stem}.wav``, and must
not exist yet.)
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import torch

from tokensep_core.audio.io import read_audio, write_audio
from tokensep_core.bench.grid import load_grid
from tokensep_core.data.folder import scan_song
from tokensep_core.errors import TokensepError
from tokensep_core.interfaces import Song
from tokensep_core.plugins import load_registry


def read_song(folder: Path, stems: tuple[str, ...]) -> Song:
    """A MUSDB-layout folder -> Song with ``[C, T]`` float32 mixture and stems, cut to the
    shortest file."""
    files = scan_song(folder, stems)
    if files.mixture is None:
        raise TokensepError(f"{folder}: missing mixture (the stems split the song's own mixture)")
    wavs = {name: read_audio(path, frames=files.frames)[0] for name, path in files.stems.items()}
    return Song(files.name, files.sample_rate, read_audio(files.mixture, frames=files.frames)[0], wavs)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("grid", type=Path)
    parser.add_argument("row")
    parser.add_argument("song", type=Path)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=0, help="sampling seed of a stochastic separator (default 0)")
    args = parser.parse_args(argv)
    try:
        if args.out.exists():
            raise TokensepError(f"{args.out} exists: choose a new folder (stems are never overwritten)")
        rows = {baseline.name: baseline for baseline in load_grid(args.grid).baselines}
        if args.row not in rows or rows[args.row].separator is None:
            raise TokensepError(f"{args.grid}: no separator row {args.row!r} (rows: {', '.join(rows)})")
        separator = load_registry().build("separator", rows[args.row].separator, source=f"{args.grid} row {args.row}")
        song = read_song(args.song, tuple(separator.stems))
        torch.manual_seed(args.seed)
        separator.set_seed(args.seed)
        stems = separator.separate_song(song)
        partial = args.out.with_name(args.out.name + ".partial")
        partial.mkdir(parents=True, exist_ok=True)
        for stem, wav in stems.items():
            write_audio(partial / f"{stem}.wav", wav.float().cpu(), song.sample_rate)
        partial.rename(args.out)
    except TokensepError as err:
        print(f"write_stems: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
