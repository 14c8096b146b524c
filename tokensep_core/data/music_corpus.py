"""``tokensep data music``: real mixed music without stems, for codec training (issue 19).

Fetches game-soundtrack packages (:mod:`~tokensep_core.data.music_sources`) with ``apt-get
download`` + ``dpkg-deb -x`` into a cache (nothing is installed), decodes each track (libsndfile,
else ffmpeg: Ogg Vorbis, Opus, MP3), resamples it to the output rate, keeps stereo (a mono track
is duplicated to both channels) and cuts it into back-to-back excerpts of ``seconds`` (the tail
shorter than that is dropped, as are excerpts quieter than ``SILENCE_DBFS``). Writes::

    OUT/{train,test}/EXCERPT/mixture.flac   one song folder per excerpt, nothing but the mixture
    OUT/manifest.csv                        excerpt -> split, package, file, licence, start, level, centroid
    OUT/licences/PACKAGE.txt                each package's copyright file (+ PACKAGE/... extra licence files)
    OUT/music.json                          the settings; a re-run with other settings is refused
    OUT/.tracks/TRACK.json                  what each finished track gave (resume, manifest)

The ``stems_folder`` dataset reads it with ``stems: [mixture]`` (docs/data.md). Whole tracks
are held out for ``test``: in each package the ``round(test_fraction * n)`` tracks first in a
seeded hash order. A track that cannot be decoded is skipped with a warning and counted; so is a
track sampled below ``min(sample_rate, 44100)`` (band-limited). Resumable: excerpt folders are
written atomically and never rewritten; a finished track is not decoded again. Tracks are taken
from the packages in turn, and the manifest is written even when a run is interrupted, so a
partial build holds (and lists) some of every package.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from torch import Tensor
from tqdm import tqdm

from tokensep_core.audio.io import atomic_path, convert, read_audio
from tokensep_core.data.corpus import copy_licence, fetch_package
from tokensep_core.data.music_sources import MusicPackage, Track, find_tracks, music_packages
from tokensep_core.data.writer import FILE_TYPES, AudioFormat, record_settings, write_song_folder
from tokensep_core.errors import AudioError, TokensepError

SETTINGS_FILE = "music.json"
MANIFEST_FILE = "manifest.csv"
TRACKS_FOLDER = ".tracks"
SILENCE_DBFS = -60.0
"""Excerpts whose RMS level (both channels) is below this are not written."""
FULL_BAND_RATE = 44100
"""A track sampled below ``min(sample_rate, FULL_BAND_RATE)`` is skipped as band-limited."""
MANIFEST_COLUMNS = (
    "excerpt",
    "split",
    "package",
    "file",
    "licence",
    "start_seconds",
    "source_rate",
    "source_channels",
    "rms_dbfs",
    "centroid_hz",
)


@dataclass
class TrackResult:
    """What one track gave: its excerpts (``{name, start, rms_dbfs, centroid_hz}``) or why none."""

    package: str
    source: str
    split: str
    sample_rate: int = 0
    channels: int = 0
    seconds: float = 0.0
    excerpts: list[dict] = field(default_factory=list)
    silent: int = 0
    skipped: str = ""  # "", "band-limited", "undecodable: REASON"


@dataclass(frozen=True)
class MusicSummary:
    """A run: excerpts written now and already there, and every track's result."""

    written: int
    kept: int
    tracks: list[TrackResult]

    def splits(self) -> dict[str, int]:
        return {split: sum(len(t.excerpts) for t in self.tracks if t.split == split) for split in ("train", "test")}

    def undecodable(self) -> list[TrackResult]:
        return [t for t in self.tracks if t.skipped.startswith("undecodable")]


def check_settings(seconds: float, sample_rate: int, test_fraction: float) -> None:
    """Refuse, in one line, settings that cannot give an excerpt."""
    if (
        not (seconds > 0 and np.isfinite(seconds))
        or sample_rate <= 0
        or round(seconds * sample_rate) < 1
        or not 0.0 <= test_fraction <= 1.0
    ):
        raise TokensepError(
            f"data music: need seconds > 0, sample rate > 0, 0 <= test fraction <= 1 (got {seconds}, {sample_rate}, {test_fraction})"
        )


def track_splits(tracks: list[Track], test_fraction: float, seed: int) -> dict[str, str]:
    """``{source: split}``: per package, the ``round(test_fraction * n)`` tracks first in a
    seeded hash order go to ``test``, the rest to ``train``."""
    splits = {}
    for package in dict.fromkeys(t.package for t in tracks):
        own = [t for t in tracks if t.package == package]
        ordered = sorted(own, key=lambda t: hashlib.sha256(f"{seed}/{t.package}/{t.source}".encode()).hexdigest())
        held = round(test_fraction * len(own))
        splits.update({t.source: "test" if i < held else "train" for i, t in enumerate(ordered)})
    return splits


def interleave(tracks: list[Track]) -> list[Track]:
    """Tracks taken in turn from each package (the first of every package, then the second, ...),
    so an interrupted build holds some of every package."""
    by_package: dict[str, list[Track]] = {}
    for track in tracks:
        by_package.setdefault(track.package, []).append(track)
    rounds = max(map(len, by_package.values()), default=0)
    return [own[i] for i in range(rounds) for own in by_package.values() if i < len(own)]


def track_name(track: Track) -> str:
    """A file-system-safe name for a track, unique within a corpus: ``PACKAGE_relative-path``."""
    return f"{track.package}_{re.sub(r'[^A-Za-z0-9.+-]+', '-', track.name).strip('-')}"


def excerpt_stats(wav: Tensor, sample_rate: int) -> tuple[float, float]:
    """RMS level (dBFS, both channels) and spectral centroid (Hz, of the mean magnitude spectrum
    of the channel mean, 2048-point frames) of ``wav [C, T]``."""
    level = 10 * np.log10(float(wav.double().pow(2).mean()) + 1e-20)
    mono = wav.mean(0)
    n_fft = min(2048, mono.numel())
    spectrum = torch.stft(mono, n_fft, n_fft // 2, window=torch.hann_window(n_fft), return_complex=True).abs().mean(-1)
    freqs = torch.linspace(0, sample_rate / 2, spectrum.numel())
    centroid = float((freqs * spectrum).sum() / spectrum.sum().clamp_min(1e-12))
    return level, centroid


def cut_track(track: Track, split: str, out: Path, seconds: float, sample_rate: int, audio_format: AudioFormat) -> tuple[TrackResult, int]:
    """Decode ``track``, write its excerpts that are not there yet -> (result, excerpts written)."""
    result = TrackResult(track.package, track.source, split)
    try:
        wav, rate = read_audio(track.path)
    except AudioError as err:
        result.skipped = f"undecodable: {err}"
        return result, 0
    result.sample_rate, result.channels, result.seconds = rate, wav.shape[0], wav.shape[-1] / rate
    if rate < min(sample_rate, FULL_BAND_RATE):
        result.skipped = "band-limited"
        return result, 0
    if wav.shape[0] > 2:
        result.skipped = f"{wav.shape[0]} channels"
        return result, 0
    wav = convert(wav, rate, sample_rate, 2)  # mono is repeated on both channels
    length = round(seconds * sample_rate)
    suffix = FILE_TYPES[audio_format][0]
    written = 0
    for k in range(wav.shape[-1] // length):
        excerpt = wav[:, k * length : (k + 1) * length]
        level, centroid = excerpt_stats(excerpt, sample_rate)
        if level < SILENCE_DBFS:
            result.silent += 1
            continue
        name = f"{track_name(track)}_{k:03d}"
        folder = out / split / name
        if not (folder / f"mixture{suffix}").is_file():
            write_song_folder(folder, {"mixture": excerpt}, sample_rate, audio_format)
            written += 1
        result.excerpts.append({"name": name, "start": k * length / sample_rate, "rms_dbfs": level, "centroid_hz": centroid})
    return result, written


def build_music_corpus(
    out: str | Path,
    cache: str | Path | None = None,
    packages: list[str] | None = None,
    seconds: float = 10.0,
    sample_rate: int = 44100,
    test_fraction: float = 0.1,
    seed: int = 0,
    audio_format: AudioFormat = "flac",
    progress: bool = True,
) -> MusicSummary:
    """Fetch ``packages`` (None: the default ones) and write their music as excerpts into
    ``out`` (see the module doc); resumes a previous run with the same settings."""
    check_settings(seconds, sample_rate, test_fraction)
    chosen = music_packages(packages)
    out = Path(out)
    cache = Path(cache) if cache is not None else out.parent / f".{out.name}-sources"
    found: list[tuple[MusicPackage, Path, list[Track]]] = []
    for package in chosen:  # everything is fetched and checked before OUT is touched
        if progress:
            print(f"[music] {package.name} ({package.licence}) -> {cache / 'root'}", file=sys.stderr)
        root = fetch_package(package.package, cache, command="data music")
        found.append((package, root, find_tracks(package, root, cache)))
    tracks = [track for _, _, own in found for track in own]
    _check_unique(tracks)
    record_settings(
        out,
        SETTINGS_FILE,
        {
            "packages": [p.name for p in chosen],
            "seconds": seconds,
            "sample_rate": sample_rate,
            "test_fraction": test_fraction,
            "seed": seed,
            "format": audio_format,
            "silence_dbfs": SILENCE_DBFS,
        },
    )
    for package, root, _ in found:
        copy_licences(package, root, out)
    splits = track_splits(tracks, test_fraction, seed)
    results, written, kept = [], 0, 0
    bar = tqdm(interleave(tracks), total=len(tracks), desc="music", unit="track", disable=not progress)
    try:
        for track in bar:
            result = _finished(out, track, splits[track.source], audio_format)
            if result is not None:
                kept += len(result.excerpts)
            else:
                result, count = cut_track(track, splits[track.source], out, seconds, sample_rate, audio_format)
                written += count
                kept += len(result.excerpts) - count
                if result.skipped.startswith("undecodable"):
                    tqdm.write(f"tokensep: warning: data music: skipped {result.skipped.removeprefix('undecodable: ')}", file=sys.stderr)
                else:  # an undecodable track has no record: the next run tries it again
                    _write_record(out, track, result)
            results.append(result)
            bar.set_postfix(excerpts=written + kept)
    finally:  # also when interrupted: the manifest lists the tracks finished so far
        write_manifest(out / MANIFEST_FILE, sorted(results, key=lambda r: (r.package, r.source)), {p.name: p.licence for p in chosen})
    return MusicSummary(written, kept, results)


def copy_licences(package: MusicPackage, root: Path, out: Path) -> None:
    """The copyright file as ``OUT/licences/PACKAGE.txt``, the extra licence files under
    ``OUT/licences/PACKAGE/`` (named by their path, ``/`` as ``_``)."""
    copy_licence(package.package, root, out)
    for path in package.licences:
        source = root / path
        if source.is_file():
            with atomic_path(out / "licences" / package.name / path.replace("/", "_")) as tmp:
                tmp.write_bytes(source.read_bytes())


def _check_unique(tracks: list[Track]) -> None:
    names: dict[str, Track] = {}
    for track in tracks:
        name = track_name(track)
        if name in names:
            raise TokensepError(f"data music: {names[name].source} and {track.source} would both be named {name}")
        names[name] = track


def _record_path(out: Path, track: Track) -> Path:
    return out / TRACKS_FOLDER / f"{track_name(track)}.json"


def _write_record(out: Path, track: Track, result: TrackResult) -> None:
    with atomic_path(_record_path(out, track)) as tmp:
        tmp.write_text(json.dumps(result.__dict__, indent=1) + "\n")


def _finished(out: Path, track: Track, split: str, audio_format: AudioFormat) -> TrackResult | None:
    """The recorded result of a track whose excerpts are all on disk, or None."""
    path = _record_path(out, track)
    if not path.is_file():
        return None
    try:
        result = TrackResult(**json.loads(path.read_text()))
    except (OSError, TypeError, json.JSONDecodeError):
        return None  # damaged record: decode the track again
    suffix = FILE_TYPES[audio_format][0]
    if result.split != split or not all((out / split / e["name"] / f"mixture{suffix}").is_file() for e in result.excerpts):
        return None
    return result


def write_manifest(path: Path, results: Iterable[TrackResult], licences: dict[str, str]) -> None:
    """One CSV row per excerpt (``MANIFEST_COLUMNS``), written atomically."""
    text = io.StringIO()
    writer = csv.writer(text)
    writer.writerow(MANIFEST_COLUMNS)
    for r in results:
        for e in r.excerpts:
            writer.writerow(
                [
                    e["name"],
                    r.split,
                    r.package,
                    r.source,
                    licences[r.package],
                    f"{e['start']:.3f}",
                    r.sample_rate,
                    r.channels,
                    f"{e['rms_dbfs']:.2f}",
                    f"{e['centroid_hz']:.0f}",
                ]
            )
    with atomic_path(path) as tmp:
        tmp.write_text(text.getvalue())


def package_table(summary: MusicSummary, seconds: float) -> list[dict]:
    """Per package: tracks used / found, excerpts, hours written, source rates, mono tracks,
    skipped tracks and silent excerpts, median level and spectral centroid."""
    rows = []
    for package in dict.fromkeys(t.package for t in summary.tracks):
        own = [t for t in summary.tracks if t.package == package]
        excerpts = [e for t in own for e in t.excerpts]
        rows.append(
            {
                "package": package,
                "tracks": f"{sum(bool(t.excerpts) for t in own)}/{len(own)}",
                "excerpts": len(excerpts),
                "test": sum(len(t.excerpts) for t in own if t.split == "test"),
                "hours": len(excerpts) * seconds / 3600,
                "rates": sorted({t.sample_rate for t in own if t.sample_rate}),
                "mono": sum(t.channels == 1 for t in own),
                "skipped": sum(bool(t.skipped) for t in own),
                "silent": sum(t.silent for t in own),
                "rms_dbfs": float(np.median([e["rms_dbfs"] for e in excerpts])) if excerpts else float("nan"),
                "centroid_hz": float(np.median([e["centroid_hz"] for e in excerpts])) if excerpts else float("nan"),
            }
        )
    return rows
