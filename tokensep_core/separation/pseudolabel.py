"""Pseudo-labels: a teacher separator turns unlabeled mixtures into a stems folder dataset.

Input: a folder searched recursively. A folder holding ``mixture.<ext>`` is one song (MUSDB
style: its other files are ignored); elsewhere every audio file is one song. Output:
``OUT/{song}/{stem}.wav`` plus ``OUT/{song}/mixture.wav`` (32-bit float, at the input's rate),
each song written into a hidden temporary folder and renamed into place, so a song folder is
either complete or absent. A re-run skips complete songs; ``OUT/pseudolabel.json`` records the
teacher and its parameters, and a re-run with another teacher is refused.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from torch import Tensor
from tqdm import tqdm

from tokensep_core.audio.io import AUDIO_EXTENSIONS, read_audio
from tokensep_core.data.writer import record_settings, write_song_folder
from tokensep_core.errors import TokensepError
from tokensep_core.interfaces import Separator

SETTINGS_FILE = "pseudolabel.json"
MIXTURE = "mixture"
RUNTIME_PARAMS = ("device", "batch_size")
"""Teacher parameters that do not change the labels, so a resumed run may change them."""


@dataclass(frozen=True)
class MixtureFile:
    """One unlabeled song: its output name and its mixture file."""

    name: str
    path: Path


@dataclass
class PseudoLabelSummary:
    """What a run did; ``failed`` holds one line per song that could not be labelled."""

    written: int = 0
    skipped: int = 0
    failed: list[str] = field(default_factory=list)


def find_mixtures(source: str | Path) -> list[MixtureFile]:
    """Every song under ``source`` (a folder, or a single audio file), sorted by path.

    Songs are named after their song folder or file stem; names that collide get the relative
    path instead (``a - b - song``).
    """
    source = Path(source)
    if source.is_file():
        return [MixtureFile(source.stem, source)]
    if not source.is_dir():
        raise TokensepError(f"{source}: no such file or folder")
    found: list[tuple[Path, Path]] = []  # (path relative to source without suffix, file)
    for folder, dirs, files in os.walk(source):
        dirs[:] = sorted(d for d in dirs if not d.startswith("."))
        here = Path(folder)
        audio = sorted(f for f in files if Path(f).suffix.lower() in AUDIO_EXTENSIONS and not f.startswith("."))
        mixtures = [f for f in audio if Path(f).stem == MIXTURE]
        if mixtures:
            found.append((here.relative_to(source), here / mixtures[0]))
            dirs[:] = []  # a song folder: its stems and subfolders are not songs
        else:
            found.extend(((here / f).relative_to(source).with_suffix(""), here / f) for f in audio)
    leaf = Counter(rel.name for rel, _ in found)
    songs = [MixtureFile(rel.name if leaf[rel.name] == 1 else " - ".join(rel.parts), path) for rel, path in found]
    return sorted(songs, key=lambda s: s.path)


def pseudolabel_folder(
    teacher: Separator,
    source: str | Path,
    out: str | Path,
    settings: dict[str, Any],
    progress: bool = True,
    report: Callable[[str], None] | None = None,
) -> PseudoLabelSummary:
    """Label every song of ``source`` with ``teacher`` into ``out`` (see the module doc).

    ``settings`` (teacher name and params) is recorded in ``out``; a song that fails is passed
    to ``report`` as one line and the others go on.
    """
    out = Path(out)
    songs = find_mixtures(source)
    if not songs:
        raise TokensepError(f"{source}: no audio files found (extensions: {', '.join(AUDIO_EXTENSIONS)})")
    record_settings(out, SETTINGS_FILE, settings, "labelled with other teacher settings", _label_defining)
    summary = PseudoLabelSummary()
    for song in tqdm(songs, desc="pseudolabel", unit="song", disable=not progress):
        folder = out / song.name
        if is_complete(folder, teacher.stems):
            summary.skipped += 1
            continue
        try:
            wav, sample_rate = read_audio(song.path)
            stems = teacher.separate(wav, sample_rate)
            _check_stems(stems, teacher.stems, wav)
            write_song_folder(folder, {MIXTURE: wav, **{name: stems[name] for name in teacher.stems}}, sample_rate)
        except Exception as err:  # one bad song must not stop the others
            message = _one_line(err)
            line = message if str(song.path) in message else f"{song.path}: {message}"
            summary.failed.append(line)
            if report is not None:
                report(line)
            continue
        summary.written += 1
    return summary


def is_complete(folder: Path, stems: tuple[str, ...]) -> bool:
    """True when ``folder`` holds the mixture and every stem."""
    return all((folder / f"{name}.wav").is_file() for name in (MIXTURE, *stems))


def _check_stems(stems: dict[str, Tensor], names: tuple[str, ...], mixture: Tensor) -> None:
    for name in names:
        if name not in stems:
            raise TokensepError(f"the teacher returned no stem {name!r}")
        if stems[name].shape != mixture.shape:
            raise TokensepError(f"the teacher's stem {name!r} has shape {list(stems[name].shape)}, the mixture {list(mixture.shape)}")
    if MIXTURE in names:
        raise TokensepError(f"the teacher has a stem named {MIXTURE!r}, which would overwrite the mixture")


def _label_defining(settings: dict[str, Any]) -> dict[str, Any]:
    """The settings that change the labels: all but the teacher's runtime params."""
    params = {k: v for k, v in dict(settings.get("params", {})).items() if k not in RUNTIME_PARAMS}
    return {**settings, "params": params}


def _one_line(err: BaseException) -> str:
    lines = str(err).strip().splitlines()
    text = lines[0] if lines else ""
    return text if isinstance(err, TokensepError) else f"{type(err).__name__}: {text}"
