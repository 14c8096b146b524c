"""Folders of recorded speech for the vocal stem of ``tokensep data midi``: listing their clips,
decoding one clip, and naming a voice in the manifest.

A voice source is a folder searched recursively for audio clips (libsndfile's formats, and
ffmpeg's, e.g. Asterisk's ``.g722``). Clips libsndfile should read but cannot are skipped,
counted in one warning line; a folder that does not exist or holds no readable clip is refused.
"""

from __future__ import annotations

import functools
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile as sf

from tokensep_core.audio.io import AUDIO_EXTENSIONS, INPUT_EXTENSIONS, read_audio
from tokensep_core.errors import TokensepError

CLIP_SUFFIXES = (*INPUT_EXTENSIONS, ".g722")


@dataclass(frozen=True)
class VoiceSource:
    """A voice folder and its clips (sorted paths)."""

    folder: Path
    clips: tuple[Path, ...]


def _header_ok(path: Path) -> bool:
    """False for a file libsndfile should read (by suffix) but cannot; formats left to ffmpeg pass."""
    if path.suffix.lower() not in AUDIO_EXTENSIONS:
        return True
    try:
        return sf.info(str(path)).frames > 0
    except (sf.LibsndfileError, RuntimeError, ValueError):
        return False


@functools.lru_cache(maxsize=16)
def read_voice_folder(folder: Path) -> VoiceSource:
    """The clips under ``folder``; unreadable ones skipped with a warning. Raises
    :class:`TokensepError` naming the folder when it is missing or has no readable clip."""
    if not folder.is_dir():
        raise TokensepError(f"voice {folder}: no such folder")
    found = sorted(p for p in folder.rglob("*") if p.is_file() and p.suffix.lower() in CLIP_SUFFIXES)
    clips = tuple(p for p in found if _header_ok(p))
    if len(clips) < len(found):
        bad = [p for p in found if p not in set(clips)]
        print(f"tokensep: warning: voice {folder}: {len(bad)} of {len(found)} clips unreadable, skipped (first: {bad[0]})", file=sys.stderr)
    if not clips:
        raise TokensepError(f"voice {folder}: no readable audio clip ({', '.join(CLIP_SUFFIXES[:5])}, ...)")
    return VoiceSource(folder, clips)


def usable_voices(paths: list[str | Path]) -> list[Path]:
    """``paths`` resolved, each checked by :func:`read_voice_folder` (raises on the first bad one)."""
    folders = [Path(p).resolve() for p in paths]
    for folder in folders:
        read_voice_folder(folder)
    return folders


@functools.lru_cache(maxsize=512)
def decode_clip(path: Path) -> tuple[np.ndarray, int]:
    """A clip -> (mono float64 ``[T]``, its sample rate); one-line :class:`TokensepError` naming
    the file when it cannot be decoded."""
    try:
        wav, rate = read_audio(path)
    except TokensepError as err:
        raise TokensepError(f"voice clip {err}") from None
    return wav.mean(dim=0).double().numpy(), rate


def clip_rate(path: Path) -> int:
    """A clip's sample rate (from its header, or decoded by ffmpeg)."""
    if path.suffix.lower() in AUDIO_EXTENSIONS:
        try:
            return int(sf.info(str(path)).samplerate)
        except (sf.LibsndfileError, RuntimeError, ValueError):
            pass
    return decode_clip(path)[1]


def voice_label(folder: Path | None, labels: dict[str, str] | None = None) -> str:
    """A voice as the manifest names it: its label (``data corpus``: the package), else the
    folder's name; ``procedural`` for tokensep's synthetic singer."""
    if folder is None:
        return "procedural"
    return (labels or {}).get(str(folder), folder.name)
