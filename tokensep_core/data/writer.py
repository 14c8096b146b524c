"""Writing a synthetic dataset in the MUSDB18-HQ layout, one song folder at a time, atomically.

``OUT/{train,test}/{song}/{mixture,vocals,drums,bass,other}.wav``, 32-bit float stereo, so the
mixture file is exactly the sum of the stem files (``audio_format="flac"``: 24-bit FLAC instead,
about 40 % of the size, the sum then exact to 24-bit rounding; the writers leave headroom
(:func:`tokensep_core.data.mixing.fit_headroom`), so nothing clips). Each song is written into a hidden temporary
folder and renamed into place, so an interrupted run never leaves half a song; a re-run skips
complete songs. ``OUT/synth.json`` records the settings; a re-run with other settings is refused.
"""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from torch import Tensor
from tqdm import tqdm

from tokensep_core import STEMS
from tokensep_core.audio.io import Subtype, atomic_path, write_audio
from tokensep_core.data.mixing import mix
from tokensep_core.data.synth_plan import PlannedSong, plan_songs, render_song
from tokensep_core.errors import TokensepError
from tokensep_core.interfaces import Renderer

SONG_FILES: tuple[str, ...] = ("mixture", *STEMS)
SETTINGS_FILE = "synth.json"

AudioFormat = Literal["wav", "flac"]
FILE_TYPES: dict[str, tuple[str, Subtype]] = {"wav": (".wav", "FLOAT"), "flac": (".flac", "PCM_24")}
"""Song files per format: suffix and sample type."""


@dataclass(frozen=True)
class SynthSummary:
    """What a run did: songs written now, songs already complete, songs per split."""

    written: int
    skipped: int
    splits: dict[str, int]


def write_synthetic_dataset(
    out: str | Path,
    songs: int,
    seconds: float,
    sample_rate: int,
    seed: int,
    renderer: Renderer,
    test_fraction: float = 0.2,
    renderer_name: str = "",
    progress: bool = True,
    workers: int = 1,
) -> SynthSummary:
    """Render ``songs`` songs of ``seconds`` at ``sample_rate`` into ``out`` (see module doc), in
    ``workers`` processes (each song is rendered from its own seed, so the files do not depend on
    ``workers``)."""
    if workers < 1:
        raise TokensepError(f"synth: need workers >= 1 (got {workers})")
    if songs < 1 or seconds <= 0 or sample_rate <= 0 or not 0.0 <= test_fraction <= 1.0:
        raise TokensepError(
            f"synth: need songs >= 1, seconds > 0, sample rate > 0, 0 <= test fraction <= 1 (got {songs}, {seconds}, {sample_rate}, {test_fraction})"
        )
    out = Path(out)
    record_settings(
        out,
        SETTINGS_FILE,
        {
            "renderer": renderer_name or type(renderer).__name__,
            "seconds": seconds,
            "sample_rate": sample_rate,
            "seed": seed,
            "test_fraction": test_fraction,
        },
    )
    plan = plan_songs(songs, seed, test_fraction)
    todo = [song for song in plan if not is_complete(out / song.split / song.name)]
    jobs = [(renderer, song, out / song.split / song.name, seconds, sample_rate) for song in todo]
    for _ in tqdm(run_jobs(_render_and_write, jobs, workers), total=len(jobs), desc="synth", unit="song", disable=not progress):
        pass
    written, skipped = len(todo), len(plan) - len(todo)
    splits = {split: sum(s.split == split for s in plan) for split in ("train", "test")}
    return SynthSummary(written, skipped, splits)


def _render_and_write(renderer: Renderer, song: PlannedSong, folder: Path, seconds: float, sample_rate: int) -> None:
    stems = render_song(renderer, song, seconds, sample_rate)
    write_song_folder(folder, {"mixture": mix(stems), **stems}, sample_rate)


def _limit_threads() -> None:
    import torch

    torch.set_num_threads(1)  # one song per process: intra-op threads would only compete


def run_jobs(function: Callable[..., None], jobs: list[tuple], workers: int) -> Iterator[None]:
    """``function(*job)`` for each job, in this process or in a pool of ``workers`` (spawned, so
    no forked torch state; ``function`` must be importable); yields once per finished job."""
    if workers == 1 or len(jobs) <= 1:
        for job in jobs:
            yield function(*job)
        return
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(min(workers, len(jobs)), mp_context=context, initializer=_limit_threads) as pool:
        futures = [pool.submit(function, *job) for job in jobs]
        try:
            for future in futures:
                yield future.result()
        except BaseException:  # a failed job (or Ctrl-C) stops the rest instead of rendering them first
            pool.shutdown(wait=True, cancel_futures=True)
            raise


def is_complete(folder: Path, audio_format: AudioFormat = "wav") -> bool:
    """True when ``folder`` holds every file of a song in ``audio_format``."""
    suffix = FILE_TYPES[audio_format][0]
    return all((folder / f"{name}{suffix}").is_file() for name in SONG_FILES)


def write_song_folder(folder: Path, wavs: dict[str, Tensor], sample_rate: int, audio_format: AudioFormat = "wav") -> None:
    """Write ``{name: [C, T]}`` as ``folder/{name}.wav`` (float) or ``.flac`` (24-bit) via a
    temporary sibling folder renamed into place, so a song folder is complete or absent."""
    suffix, subtype = FILE_TYPES[audio_format]
    try:
        folder.parent.mkdir(parents=True, exist_ok=True)
        for stale in folder.parent.glob(f".{folder.name}.*"):  # left by a killed run
            shutil.rmtree(stale, ignore_errors=True)
        tmp = Path(tempfile.mkdtemp(prefix=f".{folder.name}.", dir=folder.parent))
        tmp.chmod(folder.parent.stat().st_mode & 0o7777)  # mkdtemp makes folders private; a song folder is shared like its parent
    except OSError as err:
        raise TokensepError(f"{folder.parent}: cannot write here ({err.strerror or err})") from None
    try:
        for name, wav in wavs.items():
            write_audio(tmp / f"{name}{suffix}", wav, sample_rate, subtype=subtype, clip="none")
        if folder.exists():  # an incomplete song folder, e.g. a stem deleted by hand
            shutil.rmtree(folder)
        os.rename(tmp, folder)
    except OSError as err:
        raise TokensepError(f"{folder}: cannot write song ({err.strerror or err})") from None
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def record_settings(
    out: Path,
    file: str,
    settings: dict[str, Any],
    made: str = "made with other settings",
    defining: Callable[[dict[str, Any]], dict[str, Any]] = dict,
) -> None:
    """Record ``settings`` in ``out/file``; a folder recorded with other settings (compared on what
    ``defining`` keeps of them) is refused in one line naming what changed, so a resumed run never
    mixes outputs of two configurations."""
    path = out / file
    if path.is_file():
        try:
            previous = json.loads(path.read_text())
        except (OSError, json.JSONDecodeError) as err:
            raise TokensepError(f"{path}: unreadable settings ({err}); remove it or use a new folder") from None
        before, now = _as_json(defining(previous)), _as_json(defining(settings))
        changed = [
            f"{key} {before.get(key)!r} -> {now.get(key)!r}" for key in dict.fromkeys([*now, *before]) if before.get(key) != now.get(key)
        ]
        if changed:
            raise TokensepError(f"{out} was {made} ({'; '.join(changed)}); use a new folder")
    elif out.exists() and not out.is_dir():
        raise TokensepError(f"{out}: exists and is not a folder")
    with atomic_path(path) as tmp:
        tmp.write_text(json.dumps(settings, indent=2, default=str) + "\n")


def _as_json(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` as it reads back from JSON (paths as strings, tuples as lists)."""
    return json.loads(json.dumps(data, default=str))
