"""Separating an audio file with any :class:`~tokensep_core.interfaces.Separator` in one piece.

``tokensep separate`` uses this for a named model that is not a generative checkpoint (e.g. the
htdemucs teacher): the whole mixture is read (ffmpeg decodes what libsndfile cannot), handed to
``Separator.separate`` (which chunks on its own), and the stems are written with the same targets,
``no_STEM`` complements, clip and MP3 handling, and all-or-nothing commit as
:meth:`GenerativeSeparator.separate_file <tokensep_core.separation.separator.GenerativeSeparator.separate_file>`.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import torch

from tokensep_core.audio.io import AudioWriter, ClipMode, Mp3Settings, Subtype, abort_all, commit_all, read_audio
from tokensep_core.errors import AudioError, ConfigError
from tokensep_core.interfaces import Separator
from tokensep_core.runtime.signals import interrupts_held


def output_stems(separator: Separator, targets: Mapping[str, object]) -> dict[str, str]:
    """``{target name: stem it is made from}``: a stem of ``separator`` itself, or ``no_STEM`` made
    from ``STEM``; any other name is a one-line error listing the stems."""
    stems = tuple(separator.stems)
    sources: dict[str, str] = {}
    for name in targets:
        stem = name if name in stems else name[3:] if name.startswith("no_") and name[3:] in stems else None
        if stem is None:
            raise ConfigError(f"unknown stem {name!r}; this model separates {', '.join(stems)}")
        sources[name] = stem
    return sources


def separate_whole_file(
    separator: Separator,
    path: str | Path,
    targets: Mapping[str, str | Path],
    subtype: Subtype = "PCM_16",
    clip: ClipMode = "clamp",
    mp3: Mp3Settings | None = None,
) -> dict[Path, float]:
    """Separate the audio file ``path`` into ``{stem: output file}`` with ``separator.separate``
    on the whole mixture (memory grows with the song's length). A target ``no_STEM`` gets the
    mixture minus ``STEM``. On any error no output file (nor a folder made for one) exists.
    -> ``{output file: gain}``: the factor ``clip="rescale"`` scaled each by (1: unchanged)."""
    sources = output_stems(separator, targets)
    mixture, sample_rate = read_audio(path)
    with torch.inference_mode():
        stems = separator.separate(mixture, sample_rate)
    for name in dict.fromkeys(sources.values()):
        stem = stems.get(name)
        if stem is None or tuple(stem.shape) != tuple(mixture.shape):
            got = "no such stem" if stem is None else f"shape {list(stem.shape)}"
            raise AudioError(f"{path}: the model returned {got} for {name!r}, expected shape {list(mixture.shape)}")
    writers: list[AudioWriter] = []
    try:
        for name, target in targets.items():
            with interrupts_held():  # the temporary file is in `writers` before an interrupt lands
                writer = AudioWriter(target, sample_rate, mixture.shape[0], subtype, clip, mp3)
                writers.append(writer)
            stem = stems[sources[name]].detach().to("cpu", torch.float32)
            writer.write(mixture - stem if name != sources[name] else stem)
    except BaseException:
        abort_all(writers)
        raise
    return commit_all(writers)
