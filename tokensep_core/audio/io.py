"""Audio file I/O (soundfile) and format conversion: the only module that touches audio files.

Reads give float32 tensors ``[C, T]``; writes are atomic (temporary name, then rename) so an
interrupted write never leaves a half-written file under the final name.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import numpy as np
import soundfile as sf
import torch
import torchaudio
from torch import Tensor

from tokensep_core.errors import AudioError

Subtype = Literal["PCM_16", "PCM_24", "FLOAT"]
AUDIO_EXTENSIONS: tuple[str, ...] = (".wav", ".flac", ".ogg", ".aiff", ".aif")


def read_audio(path: str | Path, start: int = 0, frames: int | None = None) -> tuple[Tensor, int]:
    """-> (wav ``[C, T]`` float32, sample_rate); ``start``/``frames`` read only a part (fewer
    frames near the end of the file). Errors name the file and the problem."""
    path = _check_file(path)
    try:
        data, sample_rate = sf.read(str(path), start=start, frames=-1 if frames is None else frames, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, ValueError) as err:
        raise AudioError(f"{path}: not a readable audio file ({_reason(err)})") from None
    if data.shape[0] == 0 and start == 0:
        raise AudioError(f"{path}: contains no samples")
    wav = torch.from_numpy(np.ascontiguousarray(data.T))
    if not torch.isfinite(wav).all():
        raise AudioError(f"{path}: contains NaN or infinite samples")
    return wav, int(sample_rate)


@dataclass(frozen=True)
class AudioInfo:
    """What an audio file holds, read from its header."""

    frames: int
    sample_rate: int
    channels: int


def audio_info(path: str | Path) -> AudioInfo:
    """Frames, sample rate and channels of an audio file, without reading its samples."""
    path = _check_file(path)
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError, ValueError) as err:
        raise AudioError(f"{path}: not a readable audio file ({_reason(err)})") from None
    if info.frames == 0:
        raise AudioError(f"{path}: contains no samples")
    return AudioInfo(int(info.frames), int(info.samplerate), int(info.channels))


def list_audio_files(folder: str | Path) -> list[Path]:
    """The audio files directly inside ``folder`` (by extension, hidden files skipped), sorted."""
    folder = Path(folder)
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS and not p.name.startswith("."))


def write_audio(path: str | Path, wav: Tensor, sample_rate: int, subtype: Subtype = "PCM_16") -> Path:
    """Write wav ``[C, T]`` atomically; integer subtypes are clipped to [-1, 1]."""
    path = Path(path)
    if wav.dim() != 2:
        raise AudioError(f"{path}: expected a [channels, samples] tensor, got shape {list(wav.shape)}")
    with AudioWriter(path, sample_rate, wav.shape[0], subtype) as writer:
        writer.write(wav)
    return path


class AudioWriter:
    """Write one audio file block by block under a temporary name beside ``path``; ``commit``
    renames it into place, ``abort`` (or leaving a ``with`` block by an exception) deletes it.
    Leaving a ``with`` block normally commits."""

    def __init__(self, path: str | Path, sample_rate: int, channels: int, subtype: Subtype = "PCM_16") -> None:
        self.path = Path(path)
        self.channels = channels
        self.clip = subtype != "FLOAT"
        file_format = _format_for(self.path)
        if self.path.is_dir():
            raise AudioError(f"{self.path}: cannot write here (a folder has this name)")
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".part", dir=self.path.parent)
        except OSError as err:
            raise AudioError(f"{self.path}: cannot write here ({err.strerror or err})") from None
        os.close(fd)
        self.tmp = Path(tmp_name)
        try:
            self._file: sf.SoundFile | None = sf.SoundFile(str(self.tmp), "w", sample_rate, channels, subtype=subtype, format=file_format)
        except (sf.LibsndfileError, RuntimeError, ValueError) as err:
            self.tmp.unlink(missing_ok=True)
            raise AudioError(f"{self.path}: cannot write audio ({_reason(err)})") from None

    def write(self, block: Tensor) -> None:
        """Append ``block [C, n]``."""
        if self._file is None:
            raise AudioError(f"{self.path}: writer already closed")
        if block.dim() != 2 or block.shape[0] != self.channels:
            raise AudioError(f"{self.path}: expected a [{self.channels}, samples] block, got shape {list(block.shape)}")
        data = block.detach().to("cpu", torch.float32).numpy().T
        if self.clip:
            data = np.clip(data, -1.0, 1.0)
        try:
            self._file.write(np.ascontiguousarray(data))
        except (sf.LibsndfileError, RuntimeError, ValueError) as err:
            raise AudioError(f"{self.path}: cannot write audio ({_reason(err)})") from None

    def close(self) -> None:
        """Finish the temporary file (it keeps its temporary name)."""
        if self._file is not None:
            try:
                self._file.close()
            except (sf.LibsndfileError, RuntimeError, ValueError) as err:
                raise AudioError(f"{self.path}: cannot write audio ({_reason(err)})") from None
            finally:
                self._file = None

    def commit(self) -> Path:
        """Close and rename the finished file to ``path``."""
        self.close()
        self.tmp.chmod(0o666 & ~_umask())  # mkstemp makes files private; a finished file gets the usual mode
        try:
            os.replace(self.tmp, self.path)
        except OSError as err:
            raise AudioError(f"{self.path}: cannot write here ({err.strerror or err})") from None
        return self.path

    def abort(self) -> None:
        """Close and delete the temporary file."""
        try:
            self.close()
        except AudioError:
            pass
        self.tmp.unlink(missing_ok=True)

    def __enter__(self) -> AudioWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


def commit_all(writers: list[AudioWriter]) -> None:
    """Commit every writer, or none: a failure deletes the files already placed and the rest."""
    placed: list[Path] = []
    try:
        for writer in writers:
            placed.append(writer.commit())
    except AudioError:
        for path in placed:
            path.unlink(missing_ok=True)
        for writer in writers:
            writer.abort()
        raise


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """Yield a temporary path beside ``path``; rename it to ``path`` only if the block succeeds."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp_name = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    except OSError as err:
        raise AudioError(f"{path}: cannot write here ({err.strerror or err})") from None
    os.close(fd)
    tmp = Path(tmp_name)
    tmp.chmod(0o666 & ~_umask())  # mkstemp makes files private; a finished file gets the usual mode
    try:
        yield tmp
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def convert(wav: Tensor, sample_rate: int, target_rate: int, target_channels: int) -> Tensor:
    """Resample (torchaudio) and convert channels: ``[..., C, T]`` -> ``[..., target_channels, T']``.

    Mono to many channels repeats; many to mono averages; otherwise channels must match.
    """
    channels = wav.shape[-2]
    if channels != target_channels:
        if target_channels == 1:
            wav = wav.mean(dim=-2, keepdim=True)
        elif channels == 1:
            wav = wav.expand(*wav.shape[:-2], target_channels, wav.shape[-1])
        else:
            raise AudioError(f"cannot convert {channels} channels to {target_channels}")
    if sample_rate != target_rate:
        wav = torchaudio.functional.resample(wav.contiguous(), sample_rate, target_rate)
    return wav.contiguous()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _format_for(path: Path) -> str:
    formats = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".aiff": "AIFF", ".aif": "AIFF"}
    try:
        return formats[path.suffix.lower()]
    except KeyError:
        raise AudioError(f"{path}: unsupported audio extension (use {', '.join(AUDIO_EXTENSIONS)})") from None


def _check_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise AudioError(f"{path}: no such file")
    if path.is_dir():
        raise AudioError(f"{path}: is a directory, not an audio file")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: empty file")
    return path


def _reason(err: Exception) -> str:
    lines = str(err).strip().splitlines()
    return lines[-1] if lines else type(err).__name__
