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

import soundfile as sf
import torch

from tokensep_core.bench.grid import load_grid
from tokensep_core.errors import TokensepError
from tokensep_core.interfaces import Song
from tokensep_core.plugins import load_registry


def read_song(folder: Path, stems: tuple[str, ...]) -> Song:
    """A MUSDB-layout folder -> Song with ``[C, T]`` float32 mixture and stems."""
    wavs, rate = {}, 0
    for name in ("mixture", *stems):
        path = folder / f"{name}.wav"
        if not path.is_file():
            raise TokensepError(f"{folder}: no {name}.wav (expected mixture.wav and {', '.join(f'{s}.wav' for s in stems)})")
        wav, rate = sf.read(path, always_2d=True, dtype="float32")
        wavs[name] = torch.from_numpy(wav.T.copy())
    return Song(folder.name, rate, wavs.pop("mixture"), wavs)


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
            sf.write(partial / f"{stem}.wav", wav.float().cpu().numpy().T, song.sample_rate)
        partial.rename(args.out)
    except TokensepError as err:
        print(f"write_stems: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
