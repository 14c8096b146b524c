"""Songs stored as folders of audio files (one file per stem, optional mixture), read in parts
and converted to the dataset's sample rate and channels."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, replace
from pathlib import Path

import torch
from torch import Tensor

from tokensep_core.audio.io import AUDIO_EXTENSIONS, audio_info, convert, list_audio_files, read_audio
from tokensep_core.audio.length import fit_length
from tokensep_core.data.base import SegmentDataset
from tokensep_core.errors import AudioError, ConfigError


@dataclass(frozen=True)
class SongFiles:
    """One song folder: its stem files, its mixture file (if any), length and rate of the files;
    or one excerpt of them (``offset`` frames in, ``frames`` long)."""

    name: str
    stems: dict[str, Path]
    mixture: Path | None
    frames: int
    sample_rate: int
    offset: int = 0


def excerpts(song: SongFiles, seconds: float) -> list[SongFiles]:
    """``song`` cut into consecutive whole excerpts of ``seconds`` (a shorter tail is dropped),
    named ``NAME@START s``; -> [] when the song is shorter than one excerpt."""
    frames = round(seconds * song.sample_rate)
    return [
        replace(song, name=f"{song.name}@{k * seconds:g}s", offset=song.offset + k * frames, frames=frames)
        for k in range(song.frames // frames)
    ]


def song_folders(root: Path) -> list[Path]:
    """Sub-folders of ``root`` holding at least one audio file (hidden ones skipped), sorted."""
    if not root.is_dir():
        raise ConfigError(f"{root}: no such folder")
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith(".") and list_audio_files(p))


def scan_song(folder: Path, stems: Sequence[str] | None, mixture: str = "mixture") -> SongFiles:
    """Find the files of a song: ``stems`` by name (None: every audio file but the mixture)."""
    files = {p.stem: p for p in list_audio_files(folder)}
    wanted = tuple(stems) if stems is not None else tuple(name for name in files if name != mixture)
    missing = [name for name in wanted if name not in files]
    if missing or not wanted:
        expected = ", ".join(f"{name}{{{','.join(AUDIO_EXTENSIONS)}}}" for name in missing) if missing else "stem files"
        raise AudioError(f"{folder}: missing {expected}")
    paths = {name: files[name] for name in wanted}
    mixture_path = files.get(mixture)
    infos = {path: audio_info(path) for path in [*paths.values(), *([mixture_path] if mixture_path else [])]}
    rates = {info.sample_rate for info in infos.values()}
    if len(rates) > 1:
        raise AudioError(f"{folder}: files have different sample rates {sorted(rates)}")
    return SongFiles(folder.name, paths, mixture_path, min(info.frames for info in infos.values()), rates.pop())


class FolderDataset(SegmentDataset):
    """Songs from :class:`SongFiles`, read in parts and converted to ``sample_rate``/``channels``;
    with ``excerpt_seconds``, every song's consecutive excerpts of that length are the songs
    (so one long song gives several, e.g. for a mismatched-reference control)."""

    def __init__(
        self, songs: list[SongFiles], stems: tuple[str, ...], sample_rate: int, channels: int, excerpt_seconds: float | None = None
    ) -> None:
        if excerpt_seconds is not None:
            cut = [part for song in songs for part in excerpts(song, excerpt_seconds)]
            if not cut:
                raise ConfigError(f"excerpt_seconds {excerpt_seconds:g}: every song is shorter than one excerpt")
            songs = cut
        self.songs, self.stems, self.sample_rate, self.channels = songs, stems, sample_rate, channels

    def __len__(self) -> int:
        return len(self.songs)

    def name(self, index: int) -> str:
        return self.songs[index].name

    def num_samples(self, index: int) -> int:
        song = self.songs[index]
        return math.floor(song.frames * self.sample_rate / song.sample_rate)

    def read_stem(self, index: int, stem: str, start: int, length: int) -> Tensor:
        return self._read(self.songs[index], self.songs[index].stems[stem], start, length)

    def read_mixture(self, index: int, start: int, length: int) -> Tensor:
        song = self.songs[index]
        return self._read(song, song.mixture, start, length) if song.mixture else super().read_mixture(index, start, length)

    def _read(self, song: SongFiles, path: Path, start: int, length: int) -> Tensor:
        """``[channels, length]`` at the dataset's rate, from file samples covering the span."""
        ratio = song.sample_rate / self.sample_rate
        first = math.floor(start * ratio)
        margin = 0 if ratio == 1 else 64  # resampling needs a little context past the span
        count = min(math.ceil(length * ratio) + margin, song.frames - first)
        if count <= 0:
            return torch.zeros(self.channels, length)
        wav, _ = read_audio(path, song.offset + first, count)
        return fit_length(convert(wav, song.sample_rate, self.sample_rate, self.channels), length)
