"""Per voice figures of a ``tokensep data midi --voice`` / ``data corpus`` folder (docs/data.md):
songs, median vocal-stem level (dBFS) and spectral centroid (Hz), the sung pitch against the notes
(Praat's tracker on the vocal stem, median over each note's middle; notes moved by the octaves the
renderer moved them; cross-checked with a plain autocorrelation tracker of this script's own), the clips' sample rates, and the time the sung-speech renderer takes per
second of audio (each recorded-voice song's line rendered again from its clip files, decoding and
cutting them included: CPU time of this process).

    .venv/bin/python scripts/voice_stats.py OUT [--json FILE]
"""

from __future__ import annotations

import argparse
import csv
import json
import time
from collections import defaultdict
from pathlib import Path

import numpy as np
import parselmouth
import soundfile as sf
from drum_kit_stats import SILENT_DBFS, stem_stats

from tokensep_core.data import midi_songs, sung_speech
from tokensep_core.data.score import Note
from tokensep_core.data.voice_sources import decode_clip

MIN_NOTE = 0.2  # s: shorter notes are all glide and fade


def song_notes(source: Path, start: float, seconds: float) -> list[Note]:
    parts = midi_songs.assign_parts(midi_songs.read_midi(source))
    if parts.vocals is None:
        return []
    return midi_songs.lead_notes(midi_songs._window(parts.vocals, start, seconds), np.random.default_rng(0))


def autocorrelation_pitch(mono: np.ndarray, rate: int, centre: float, width: float = 0.04) -> float:
    """Pitch (Hz) around ``centre`` s: the strongest normalised autocorrelation lag for 60–1200 Hz,
    refined by a parabola; 0 where the frame is silent or the peak is weak (< 0.5)."""
    a, size = int((centre - width / 2) * rate), int(width * rate)
    frame = mono[a : a + size]
    if len(frame) < size or np.abs(frame).max() < 1e-5:
        return 0.0
    frame = (frame - frame.mean()) * np.hanning(size)
    corr = np.correlate(frame, frame, "full")[size - 1 :]
    corr = corr / corr[0]
    lo, hi = int(rate / 1200), min(int(rate / 60), size - 2)
    lag = lo + int(np.argmax(corr[lo:hi]))
    if corr[lag] < 0.5:
        return 0.0
    y0, y1, y2 = corr[lag - 1], corr[lag], corr[lag + 1]
    return rate / (lag + 0.5 * (y0 - y2) / (y0 - 2 * y1 + y2 + 1e-12))


def pitch_errors(vocals: Path, notes: list[Note], shift: int) -> tuple[list[float], list[float], int]:
    """Median error (cents) per note of at least :data:`MIN_NOTE` with voiced frames in its middle,
    by Praat's tracker and by :func:`autocorrelation_pitch`, and how many such notes there are."""
    audio, rate = sf.read(str(vocals), dtype="float64", always_2d=True)
    mono = audio.mean(axis=1)
    pitch = parselmouth.Sound(mono, rate).to_pitch(time_step=0.01, pitch_floor=60, pitch_ceiling=1200)
    f0, times = pitch.selected_array["frequency"], pitch.xs()
    praat, plain, long = [], [], 0
    for note in notes:
        if note.duration < MIN_NOTE:
            continue
        long += 1
        target = 440.0 * 2 ** ((note.pitch + shift - 69) / 12)
        middle = (times >= note.start + 0.1) & (times <= note.start + note.duration - 0.05) & (f0 > 0)
        if middle.any():
            praat.append(float(np.median(1200 * np.log2(f0[middle] / target))))
        tracked = np.array(
            [autocorrelation_pitch(mono, rate, t) for t in np.arange(note.start + 0.1, note.start + note.duration - 0.05, 0.01)]
        )
        if (tracked > 0).any():
            plain.append(float(np.median(1200 * np.log2(tracked[tracked > 0] / target))))
    return praat, plain, long


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", type=Path)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args()
    settings = json.loads((args.out / "midi.json").read_text())
    suffix, seconds, rate = "." + settings.get("format", "wav"), settings["seconds"], settings["sample_rate"]
    folders = [Path(v) for v in settings.get("voices", [])]
    rows: dict[str, list[dict]] = defaultdict(list)
    for song in csv.DictReader((args.out / "manifest.csv").open()):
        vocals = args.out / song["split"] / song["song"] / f"vocals{suffix}"
        level, centroid = stem_stats(vocals)
        notes = song_notes(Path(song["source"]), float(song["start_seconds"]), seconds)
        shift, render = 0, None
        if song["voice_clips"]:
            label = song["voice"]
            folder = next(f for f in folders if f.name == label or f"/{label}/" in str(f))
            clips = [folder / clip for clip in song["voice_clips"].split(";")]
            sung_speech.clip_units.cache_clear()
            decode_clip.cache_clear()
            began = time.process_time()
            sung_speech.sing(notes, clips, round(seconds * rate), rate, np.random.default_rng(0))
            render = time.process_time() - began
            decoded = [sung_speech.clip_units(clip) for clip in clips]
            order = sung_speech.unit_order(decoded)
            if order and notes:
                speaker = float(np.median([decoded[i].units[j].f0 for i, j in order]))
                shift = 12 * sung_speech.octave_shift(notes, speaker)
        errors, plain, long = pitch_errors(vocals, notes, shift) if notes and level > SILENT_DBFS else ([], [], 0)
        rows[song["voice"]].append(
            {
                "level": level,
                "centroid": centroid,
                "errors": errors,
                "plain": plain,
                "long": long,
                "render": render,
                "rate": song["voice_rate_hz"],
                "shift": shift // 12,
            }
        )
    table = {}
    for voice, songs in sorted(rows.items(), key=lambda item: -len(item[1])):
        sounding = [s for s in songs if s["level"] > SILENT_DBFS]
        errors = np.abs([e for s in songs for e in s["errors"]])
        plain = np.abs([e for s in songs for e in s["plain"]])
        renders = [s["render"] for s in songs if s["render"] is not None]
        rates = sorted({int(s["rate"]) for s in songs if s["rate"]})
        table[voice] = {
            "songs": len(songs),
            "silent_vocals": len(songs) - len(sounding),
            "median_dbfs": float(np.median([s["level"] for s in sounding])) if sounding else None,
            "median_centroid_hz": float(np.median([s["centroid"] for s in sounding])) if sounding else None,
            "notes_long_enough": sum(s["long"] for s in songs),
            "notes_measured": int(len(errors)),
            "median_abs_cents": float(np.median(errors)) if len(errors) else None,
            "within_50_cents": float(np.mean(errors <= 50)) if len(errors) else None,
            "autocorrelation_notes": int(len(plain)),
            "autocorrelation_median_abs_cents": float(np.median(plain)) if len(plain) else None,
            "autocorrelation_within_50_cents": float(np.mean(plain <= 50)) if len(plain) else None,
            "render_s_per_s": float(np.sum(renders) / (len(renders) * seconds)) if renders else None,
            "clip_rates_hz": rates,
            "octave_shifts": {str(k): sum(s["shift"] == k for s in songs if s["render"] is not None) for k in range(-3, 4)},
        }
    print(
        f"{'voice':30} {'songs':>5} {'silent':>6} {'dBFS':>6} {'centroid':>8} {'notes':>9} {'|cents|':>7} {'<=50c':>6} {'ac |c|':>7} {'ac<=50':>6} {'s/s':>6}  rates; octave shifts"
    )
    for voice, row in table.items():

        def show(key: str, spec: str, row: dict = row) -> str:
            return format(row[key], spec) if row[key] is not None else "-"

        print(
            f"{voice:30} {row['songs']:5d} {row['silent_vocals']:6d} {show('median_dbfs', '.1f'):>6} {show('median_centroid_hz', '.0f'):>8} "
            f"{row['notes_measured']:4d}/{row['notes_long_enough']:<4d} {show('median_abs_cents', '.1f'):>7} {show('within_50_cents', '.2f'):>6} "
            f"{show('autocorrelation_median_abs_cents', '.1f'):>7} {show('autocorrelation_within_50_cents', '.2f'):>6} "
            f"{show('render_s_per_s', '.3f'):>6}  {','.join(map(str, row['clip_rates_hz']))}; "
            f"{' '.join(f'{k}:{v}' for k, v in row['octave_shifts'].items() if v)}"
        )
    if args.json:
        args.json.write_text(json.dumps(table, indent=2) + "\n")


if __name__ == "__main__":
    main()
