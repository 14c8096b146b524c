"""Per drum kit figures of a ``tokensep data midi`` / ``data corpus`` folder (docs/data.md): songs
that drew the kit, median drum-stem level (dBFS) and spectral centroid (Hz), and silent drum stems,
split into those whose excerpt has drum notes (a kit that failed to play) and those without.

    .venv/bin/python scripts/drum_kit_stats.py OUT [--json FILE]
"""

from __future__ import annotations

import argparse
import csv
import json
from collections import defaultdict
from pathlib import Path

import numpy as np
import soundfile as sf

from tokensep_core.data import midi_songs

SILENT_DBFS = -60.0


def stem_stats(path: Path) -> tuple[float, float]:
    """RMS level (dBFS, both channels) and spectral centroid (Hz; mean magnitude spectrum of the
    channel mean in 2048-point Hann frames, hop 1024) of one stem file."""
    audio, rate = sf.read(str(path), dtype="float64", always_2d=True)
    level = 10 * np.log10(float(np.mean(audio**2)) + 1e-20)
    mono = audio.mean(axis=1)
    n_fft = min(2048, len(mono))
    frames = np.lib.stride_tricks.sliding_window_view(mono, n_fft)[:: n_fft // 2]
    spectrum = np.abs(np.fft.rfft(frames * np.hanning(n_fft), axis=1)).mean(axis=0)
    freqs = np.fft.rfftfreq(n_fft, 1 / rate)
    return level, float((freqs * spectrum).sum() / max(spectrum.sum(), 1e-12))


def drum_notes(source: Path, start: float, seconds: float) -> int:
    parts = midi_songs.assign_parts(midi_songs.read_midi(source))
    return sum(start <= note.start < start + seconds for part in parts.drums for note in part.notes)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    settings = json.loads((args.out / "midi.json").read_text())
    suffix = "." + settings.get("format", "wav")
    rows: dict[str, list[dict]] = defaultdict(list)
    for song in csv.DictReader((args.out / "manifest.csv").open()):
        level, centroid = stem_stats(args.out / song["split"] / song["song"] / f"drums{suffix}")
        silent = level < SILENT_DBFS
        notes = drum_notes(Path(song["source"]), float(song["start_seconds"]), settings["seconds"]) if silent else None
        rows[song["drum_kit"]].append({"song": song["song"], "level": level, "centroid": centroid, "silent": silent, "notes": notes})
    table = {}
    for kit, songs in sorted(rows.items(), key=lambda item: -len(item[1])):
        sounding = [s for s in songs if not s["silent"]]
        table[kit] = {
            "songs": len(songs),
            "median_dbfs": float(np.median([s["level"] for s in sounding])) if sounding else None,
            "median_centroid_hz": float(np.median([s["centroid"] for s in sounding])) if sounding else None,
            "silent_with_drum_notes": sum(bool(s["silent"] and s["notes"]) for s in songs),
            "silent_without_drum_notes": sum(bool(s["silent"] and not s["notes"]) for s in songs),
        }
    print(f"{'drum kit':36} {'songs':>5} {'dBFS':>7} {'centroid':>9} {'silent (notes / none)':>22}")
    for kit, row in table.items():
        level = f"{row['median_dbfs']:.1f}" if row["median_dbfs"] is not None else "-"
        centroid = f"{row['median_centroid_hz']:.0f}" if row["median_centroid_hz"] is not None else "-"
        silent = f"{row['silent_with_drum_notes']} / {row['silent_without_drum_notes']}"
        print(f"{kit:36} {row['songs']:5d} {level:>7} {centroid:>9} {silent:>22}")
    if args.json:
        args.json.write_text(json.dumps(table, indent=2) + "\n")


if __name__ == "__main__":
    main()
