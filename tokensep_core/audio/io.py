"""Audio file I/O (soundfile, and the ``ffmpeg`` program for what libsndfile cannot read or
write) and format conversion: the only module that touches audio files.

Reads give float32 tensors ``[C, T]``; a file libsndfile cannot read (m4a, aac, opus, …) is
decoded by ffmpeg to a temporary float WAV first. Writes are atomic (temporary name, then
rename) so an interrupted write never leaves a half-written file under the final name; MP3 is
encoded by ffmpeg (libmp3lame) from a temporary float WAV.
"""

from __future__ import annotations

import os
import shutil
import subprocess
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
from tokensep_core.runtime.signals import interrupts_held

Subtype = Literal["PCM_16", "PCM_24", "FLOAT"]
ClipMode = Literal["rescale", "clamp", "none"]
AUDIO_EXTENSIONS: tuple[str, ...] = (".wav", ".flac", ".ogg", ".aiff", ".aif")
"""Extensions libsndfile reads and writes (datasets, outputs)."""
INPUT_EXTENSIONS: tuple[str, ...] = (
    *AUDIO_EXTENSIONS,
    *(".mp3", ".m4a", ".aac", ".mp4", ".opus", ".webm", ".mka", ".wma", ".alac", ".ac3", ".aifc", ".caf", ".oga", ".wv"),
)
"""Extensions ``tokensep separate`` picks up in folders: libsndfile's, and ffmpeg's for the rest."""
MP3_RATES: tuple[int, ...] = (8000, 11025, 12000, 16000, 22050, 24000, 32000, 44100, 48000)


@dataclass(frozen=True)
class Mp3Settings:
    """MP3 encoding (ffmpeg's libmp3lame): constant ``bitrate`` in kbps, ``preset`` the LAME
    quality 2 (best) to 7 (fastest), as demucs's ``--mp3-preset``."""

    bitrate: int = 320
    preset: int = 2


def ffmpeg_binary() -> str | None:
    """The ``ffmpeg`` program on PATH, or None."""
    return shutil.which("ffmpeg")


@contextmanager
def readable(path: str | Path) -> Iterator[Path]:
    """``path`` itself when libsndfile reads it, else a temporary float WAV that ffmpeg decoded
    from it (the first audio stream, rate and channels kept); deleted on leaving the block."""
    path = _check_file(path)
    try:
        sf.info(str(path))
        native = True
    except (sf.LibsndfileError, RuntimeError, ValueError) as err:
        native, reason = False, _reason(err)
    if native:
        yield path
        return
    with tempfile.TemporaryDirectory(prefix="tokensep-decode-") as folder:
        decoded = Path(folder) / f"{path.stem}.wav"
        _ffmpeg_decode(path, decoded, reason)
        yield decoded


def _ffmpeg_decode(path: Path, target: Path, reason: str) -> None:
    """Decode ``path``'s first audio stream to a float WAV ``target`` with ffmpeg, or raise the
    one-line error naming both libsndfile's ``reason`` and ffmpeg's."""
    ffmpeg = ffmpeg_binary()
    if ffmpeg is None:
        raise AudioError(f"{path}: not a readable audio file ({reason}; ffmpeg, which reads more formats, is not installed)")
    command = [ffmpeg, "-nostdin", "-hide_banner", "-loglevel", "error", "-i", str(path), "-map", "0:a:0", "-vn"]
    command += ["-c:a", "pcm_f32le", "-rf64", "auto", "-f", "wav", "-y", str(target)]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0 or not target.exists():
        lines = result.stderr.strip().splitlines()
        raise AudioError(f"{path}: not a readable audio file ({reason}; ffmpeg: {lines[-1] if lines else 'failed'})")
    if sf.info(str(target)).frames == 0:
        raise AudioError(f"{path}: not a readable audio file ({reason}; ffmpeg decoded no samples)")


def read_audio(path: str | Path, start: int = 0, frames: int | None = None) -> tuple[Tensor, int]:
    """-> (wav ``[C, T]`` float32, sample_rate); ``start``/``frames`` read only a part (fewer
    frames near the end of the file). Errors name the file and the problem."""
    path = _check_file(path)
    try:
        data, sample_rate = sf.read(str(path), start=start, frames=-1 if frames is None else frames, dtype="float32", always_2d=True)
    except (sf.LibsndfileError, RuntimeError, ValueError) as err:
        if _native_error(path, err):
            raise AudioError(f"{path}: not a readable audio file ({_reason(err)})") from None
        with readable(path) as decoded:
            data, sample_rate = sf.read(str(decoded), start=start, frames=-1 if frames is None else frames, dtype="float32", always_2d=True)
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
    except (sf.LibsndfileError, RuntimeError, ValueError):
        with readable(path) as decoded:  # decodes the whole file: use readable() once to read it too
            info = sf.info(str(decoded))
    if info.frames == 0:
        raise AudioError(f"{path}: contains no samples")
    return AudioInfo(int(info.frames), int(info.samplerate), int(info.channels))


def list_audio_files(folder: str | Path) -> list[Path]:
    """The audio files directly inside ``folder`` (by extension, hidden files skipped), sorted."""
    folder = Path(folder)
    return sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in AUDIO_EXTENSIONS and not p.name.startswith("."))


def write_audio(path: str | Path, wav: Tensor, sample_rate: int, subtype: Subtype = "PCM_16", clip: ClipMode = "clamp") -> Path:
    """Write wav ``[C, T]`` atomically, clipped as ``clip`` says (see :class:`AudioWriter`; integer formats always saturate at ±1)."""
    path = Path(path)
    if wav.dim() != 2:
        raise AudioError(f"{path}: expected a [channels, samples] tensor, got shape {list(wav.shape)}")
    with AudioWriter(path, sample_rate, wav.shape[0], subtype, clip) as writer:
        writer.write(wav)
    return path


class AudioWriter:
    """Write one audio file block by block under a temporary name beside ``path``; ``commit``
    renames it into place, ``abort`` (or leaving a ``with`` block by an exception) deletes it and
    the folders it created. Leaving a ``with`` block normally commits.

    ``clip``: ``clamp`` clips samples to [-1, 1]; ``rescale`` divides the whole file by
    ``max(1.01 * peak, 1)`` (as demucs does; written to a float file first, converted at
    ``commit``); ``none`` writes samples as they are (integer formats and MP3 still saturate at
    ±1). A ``.mp3`` path is encoded by ffmpeg at ``commit`` with ``mp3`` (default
    :class:`Mp3Settings`); ``subtype`` then does not apply."""

    def __init__(
        self,
        path: str | Path,
        sample_rate: int,
        channels: int,
        subtype: Subtype = "PCM_16",
        clip: ClipMode = "clamp",
        mp3: Mp3Settings | None = None,
    ) -> None:
        self.path = Path(path)
        self.sample_rate = sample_rate
        self.channels = channels
        self.subtype = subtype
        self.clip_mode = clip
        self.file_format = _format_for(self.path)
        self.mp3 = mp3 or Mp3Settings()
        self.peak = 0.0
        self._file: sf.SoundFile | None = None
        if self.file_format == "MP3":
            _check_mp3(self.path, sample_rate, channels, self.mp3)
        self.staged = clip == "rescale" or self.file_format == "MP3"  # float first, finished at commit
        self.clip = clip == "clamp" or (not self.staged and subtype != "FLOAT")
        if self.path.is_dir():
            raise AudioError(f"{self.path}: cannot write here (a folder has this name)")
        self._made = _missing_folders(self.path.parent)
        try:
            self.tmp = self._temporary()
            self._file = sf.SoundFile(
                str(self.tmp),
                "w",
                sample_rate,
                channels,
                subtype="FLOAT" if self.staged else subtype,
                format="WAV" if self.staged else self.file_format,
            )
        except (sf.LibsndfileError, RuntimeError, ValueError) as err:
            self.abort()
            raise AudioError(f"{self.path}: cannot write audio ({_reason(err)})") from None
        except BaseException:  # Ctrl-C or SIGTERM before the caller holds this writer: nothing may stay
            self.abort()
            raise

    def _temporary(self) -> Path:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp_name = tempfile.mkstemp(prefix=f".{self.path.name}.", suffix=".part", dir=self.path.parent)
        except OSError as err:
            self._remove_folders()
            raise AudioError(f"{self.path}: cannot write here ({err.strerror or err})") from None
        try:
            os.close(fd)
        except BaseException:
            Path(tmp_name).unlink(missing_ok=True)
            raise
        return Path(tmp_name)

    def write(self, block: Tensor) -> None:
        """Append ``block [C, n]``."""
        if self._file is None:
            raise AudioError(f"{self.path}: writer already closed")
        if block.dim() != 2 or block.shape[0] != self.channels:
            raise AudioError(f"{self.path}: expected a [{self.channels}, samples] block, got shape {list(block.shape)}")
        data = block.detach().to("cpu", torch.float32).numpy().T
        if data.size:
            self.peak = max(self.peak, float(np.abs(data).max()))
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

    @property
    def gain(self) -> float:
        """The factor ``rescale`` applies: 1 unless the peak reaches 1/1.01."""
        return 1.0 / max(1.01 * self.peak, 1.0) if self.clip_mode == "rescale" else 1.0

    def _finish(self) -> None:
        """Turn the staged float file into the final format (rescaled, converted or encoded)."""
        staged, self.tmp = self.tmp, self._temporary()
        try:
            if self.file_format == "MP3":
                _ffmpeg_mp3(staged, self.tmp, self.gain, self.mp3, self.path)
            else:
                limit = self.clip_mode == "clamp" or self.subtype != "FLOAT"
                with (
                    sf.SoundFile(str(staged)) as source,
                    sf.SoundFile(
                        str(self.tmp), "w", self.sample_rate, self.channels, subtype=self.subtype, format=self.file_format
                    ) as target,
                ):
                    for block in source.blocks(blocksize=1 << 16, dtype="float32", always_2d=True):
                        block = block * self.gain
                        target.write(np.clip(block, -1.0, 1.0) if limit else block)
        except (sf.LibsndfileError, RuntimeError, ValueError) as err:
            raise AudioError(f"{self.path}: cannot write audio ({_reason(err)})") from None
        finally:
            staged.unlink(missing_ok=True)

    def commit(self) -> Path:
        """Close and rename the finished file to ``path``."""
        self.close()
        if self.staged:
            self.staged = False
            self._finish()
        self.tmp.chmod(0o666 & ~_umask())  # mkstemp makes files private; a finished file gets the usual mode
        try:
            os.replace(self.tmp, self.path)
        except OSError as err:
            raise AudioError(f"{self.path}: cannot write here ({err.strerror or err})") from None
        self._made = []
        return self.path

    def abort(self) -> None:
        """Close and delete the temporary file, and the folders this writer created if empty."""
        try:
            self.close()
        except AudioError:
            pass
        if hasattr(self, "tmp"):
            self.tmp.unlink(missing_ok=True)
        self._remove_folders()

    def _remove_folders(self) -> None:
        for folder in self._made:
            try:
                folder.rmdir()
            except OSError:
                break  # not empty (another writer's file): keep it and its parents
        self._made = []

    def __enter__(self) -> AudioWriter:
        return self

    def __exit__(self, exc_type, exc, tb) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.abort()


def abort_all(writers: list[AudioWriter]) -> None:
    """Abort every writer, the last first (so a folder the first one created is empty by then)."""
    for writer in reversed(writers):
        writer.abort()


def _missing_folders(folder: Path) -> list[Path]:
    """``folder`` and its ancestors that do not exist yet, deepest first."""
    missing = []
    folder = folder.absolute()
    while not folder.exists() and folder != folder.parent:
        missing.append(folder)
        folder = folder.parent
    return missing


def _check_mp3(path: Path, sample_rate: int, channels: int, settings: Mp3Settings) -> None:
    if ffmpeg_binary() is None:
        raise AudioError(f"{path}: writing MP3 needs ffmpeg, which is not installed")
    if channels > 2 or sample_rate not in MP3_RATES:
        raise AudioError(
            f"{path}: MP3 holds 1 or 2 channels at {', '.join(str(r) for r in MP3_RATES)} Hz, not {channels} channels at {sample_rate} Hz; write WAV or FLAC"
        )
    if not 8 <= settings.bitrate <= 320 or not 2 <= settings.preset <= 7:
        raise AudioError(f"{path}: MP3 bitrate must be 8-320 kbps and preset 2-7, got {settings.bitrate} and {settings.preset}")


def _ffmpeg_mp3(source: Path, target: Path, gain: float, settings: Mp3Settings, path: Path) -> None:
    """Encode the float WAV ``source`` (times ``gain``) as MP3 ``target`` with libmp3lame."""
    command = [ffmpeg_binary() or "ffmpeg", "-nostdin", "-hide_banner", "-loglevel", "error", "-i", str(source)]
    if gain != 1.0:
        command += ["-af", f"volume={gain!r}"]
    command += [
        "-c:a",
        "libmp3lame",
        "-b:a",
        f"{settings.bitrate}k",
        "-compression_level",
        str(settings.preset),
        "-f",
        "mp3",
        "-y",
        str(target),
    ]
    result = subprocess.run(command, capture_output=True, text=True)
    if result.returncode != 0:
        lines = result.stderr.strip().splitlines()
        raise AudioError(f"{path}: cannot encode MP3 (ffmpeg: {lines[-1] if lines else 'failed'})")


def commit_all(writers: list[AudioWriter]) -> dict[Path, float]:
    """Commit every writer, or none: a failure, Ctrl-C or SIGTERM deletes the files already placed
    and the rest (an interrupt waits until the file being placed is recorded). -> ``{path: gain}``
    of every file placed: the factor ``rescale`` divided it by (1: unchanged)."""
    placed: list[Path] = []
    made = [writer._made for writer in writers]  # a committed writer forgets the folders it made
    try:
        for writer in writers:
            with interrupts_held():
                placed.append(writer.commit())
    except BaseException:
        for path in placed:
            path.unlink(missing_ok=True)
        for writer, folders in zip(writers, made):  # so that aborting removes them again
            writer._made = folders
        abort_all(writers)
        raise
    return {path: writer.gain for path, writer in zip(placed, writers)}


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
    if channels != target_channels and 1 not in (channels, target_channels):
        raise AudioError(f"cannot convert {channels} channels to {target_channels}")
    if target_channels == 1 and channels != 1:
        wav = wav.mean(dim=-2, keepdim=True)
    if sample_rate != target_rate:  # on the fewer channels: after averaging, before repeating
        wav = torchaudio.functional.resample(wav.contiguous(), sample_rate, target_rate)
    if channels == 1 and target_channels != 1:
        wav = wav.expand(*wav.shape[:-2], target_channels, wav.shape[-1])
    return wav.contiguous()


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _format_for(path: Path) -> str:
    formats = {".wav": "WAV", ".flac": "FLAC", ".ogg": "OGG", ".aiff": "AIFF", ".aif": "AIFF", ".mp3": "MP3"}
    try:
        return formats[path.suffix.lower()]
    except KeyError:
        raise AudioError(f"{path}: unsupported audio extension (use {', '.join(formats)})") from None


def _check_file(path: str | Path) -> Path:
    path = Path(path)
    if not path.exists():
        raise AudioError(f"{path}: no such file")
    if path.is_dir():
        raise AudioError(f"{path}: is a directory, not an audio file")
    if path.stat().st_size == 0:
        raise AudioError(f"{path}: empty file")
    return path


def _native_error(path: Path, err: Exception) -> bool:
    """Whether libsndfile recognised ``path``'s format and failed inside it (ffmpeg would not help)."""
    try:
        sf.info(str(path))
        return True
    except (sf.LibsndfileError, RuntimeError, ValueError):
        return False


def _reason(err: Exception) -> str:
    lines = str(err).strip().splitlines()
    return lines[-1] if lines else type(err).__name__
