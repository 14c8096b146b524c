"""A token folder small enough to travel to a lent GPU machine, and back to a token folder there.

A token folder (``tokensep tokenize``; format: tokensep_core/data/token_shards.py) holds per song
the codes ``i/codes/<stem>`` ``[N, K, F]`` (int16) and the mixture ``i/mixture`` ``[C, F * hop]``
(float16 at the codec's rate), which the separator's conditioning encoder reads. The mixture is
almost all of its size, so ``pack`` stores it lossy-coded as Ogg Opus (libsndfile through
soundfile) and the codes exactly (as uint8 where they fit); ``unpack`` rebuilds a token folder that `tokensep train
separator` reads unchanged (the same index.json and keys; the mixture decoded, float16, at its
original length).

    python benchmarks/real/gpu/pack.py pack runs/real/corpus-tokens .carry/pack [--bitrate-level 0.92]
    python benchmarks/real/gpu/pack.py unpack .carry/pack runs/real/corpus-tokens-gpu

Pack folder: ``index.json`` (the token folder's, copied), ``shards/NNNNN.safetensors`` (the same
keys minus each song's mixture), ``audio/NNNNN-<key>.opus`` (one per song, ``C`` channels),
``manifest.json`` (per song: shard, key, audio file, the mixture's shape and dtype; the original
dtype of every narrowed code tensor) and
``pack.json`` (the settings and measured sizes and fidelity).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import torch
from safetensors import safe_open
from safetensors.torch import save_file

from tokensep_core.data.token_shards import INDEX_FILE, mixture_key, read_index
from tokensep_core.errors import ConfigError

MANIFEST = "manifest.json"
PACK_INFO = "pack.json"
PACK_FORMAT = 2
"""2: codes that fit travel as uint8 (their dtype in the manifest's ``code_dtypes``); 1: as they are."""
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)
DEFAULT_LEVEL = 0.92
"""libsndfile's Opus compression level: 0 -> 256 kbit/s per channel, 1 -> 6 (linear), VBR."""


class PackError(Exception):
    """A refusal, printed as one line."""


def _shards(index: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """``{shard file: [song entries]}`` in the index's order."""
    shards: dict[str, list[dict[str, Any]]] = {}
    for song in index["songs"]:
        shards.setdefault(song["shard"], []).append(song)
    return shards


def _audio_name(shard: str, key: str) -> str:
    return f"audio/{Path(shard).stem}-{key}.opus"


def _encode(path: Path, audio: np.ndarray, sample_rate: int, level: float) -> None:
    """``audio`` ``[C, T]`` float32 -> Ogg Opus at ``path``."""
    sf.write(str(path), audio.T, sample_rate, format="OGG", subtype="OPUS", compression_level=level)


def _decode(path: Path, channels: int, length: int) -> np.ndarray:
    """Ogg Opus -> ``[channels, length]`` float32, zero-padded or trimmed to ``length`` samples."""
    audio, _ = sf.read(str(path), dtype="float32", always_2d=True)  # [T', C]
    if audio.shape[1] != channels:
        raise PackError(f"{path}: {audio.shape[1]} channels, the manifest says {channels}")
    out = np.zeros((channels, length), dtype=np.float32)
    n = min(length, audio.shape[0])
    out[:, :n] = audio[:n].T
    return out


def _check_empty(path: Path, what: str) -> None:
    if path.exists() and (not path.is_dir() or any(path.iterdir())):
        raise PackError(f"{what} {path} exists and is not an empty folder; remove it or choose another")


@torch.no_grad()
def _fidelity(pairs: Iterator[tuple[np.ndarray, np.ndarray]], sample_rate: int) -> dict[str, float]:
    """Over songs of (original, decoded) ``[C, T]``: the SNR pooled over all samples, the median
    per-song SNR (dB) and the mean multi-resolution log-mel distance (tokensep's mel_distance)."""
    from tokensep_core.metrics.mel import MelDistance, MelDistanceConfig

    mel = MelDistance(MelDistanceConfig())
    signal = error = 0.0
    snrs, mels = [], []
    for original, decoded in pairs:
        s, e = float(np.sum(original.astype(np.float64) ** 2)), float(np.sum((original.astype(np.float64) - decoded) ** 2))
        signal, error = signal + s, error + e
        snrs.append(10 * math.log10(s / e) if e > 0 and s > 0 else math.inf)
        mels.append(mel(torch.from_numpy(original), torch.from_numpy(decoded), sample_rate))
    return {
        "snr_db": 10 * math.log10(signal / error) if error > 0 else math.inf,
        "median_song_snr_db": float(np.median(snrs)),
        "min_song_snr_db": float(np.min(snrs)),
        "mel_distance": float(np.mean(mels)),
        "max_mel_distance": float(np.max(mels)),
    }


def _new_folder(beside: Path) -> Path:
    """An empty folder beside ``beside`` (same file system, so a rename moves it there), mode 755."""
    beside.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{beside.name}.", dir=beside.parent))
    tmp.chmod(0o755)
    return tmp


def _put_in_place(tmp: Path, dest: Path, what: str) -> None:
    """Rename the finished ``tmp`` to ``dest``, which must still be absent or an empty folder."""
    _check_empty(dest, what)
    if dest.exists():
        dest.rmdir()
    tmp.rename(dest)


def _size(paths: list[Path]) -> int:
    return sum(p.stat().st_size for p in paths)


def pack(token_dir: Path, pack_dir: Path, level: float) -> dict[str, Any]:
    """Write ``pack_dir`` from the complete token folder ``token_dir``; -> pack.json's record."""
    index = read_index(token_dir)
    if index is None:
        raise PackError(f"{token_dir} has no {INDEX_FILE}: not a token folder (write one with `tokensep tokenize`)")
    if not index.get("complete"):
        raise PackError(f"{token_dir} is incomplete: finish it with `tokensep tokenize` first")
    if not 0.0 <= level <= 1.0:
        raise PackError(f"--bitrate-level {level}: must be within [0, 1]")
    rate = int(index["codec"]["sample_rate"])
    if rate not in OPUS_RATES:
        raise PackError(f"the codec's rate {rate} Hz is not one Opus codes ({', '.join(map(str, OPUS_RATES))})")
    _check_empty(pack_dir, "pack folder")
    tmp = _new_folder(pack_dir)
    try:
        (tmp / "shards").mkdir()
        (tmp / "audio").mkdir()
        songs: list[dict[str, Any]] = []
        originals: list[np.ndarray] = []
        code_dtypes: dict[str, str] = {}
        for shard, entries in _shards(index).items():
            source = token_dir / shard
            if not source.is_file():
                raise PackError(f"{source}: listed in {INDEX_FILE} but missing")
            mixtures = {mixture_key(e["key"]): e for e in entries}
            codes: dict[str, torch.Tensor] = {}
            with safe_open(str(source), framework="pt") as f:
                missing = [k for k in mixtures if k not in f.keys()]
                if missing:
                    raise PackError(f"{source}: no tensor {missing[0]!r}")
                for key in f.keys():
                    if key not in mixtures:
                        codes[key] = _narrowed(f.get_tensor(key), f"{shard}/{key}", code_dtypes)
                        continue
                    mixture = f.get_tensor(key)  # [C, F * hop] float16
                    audio = mixture.float().numpy()
                    name = _audio_name(shard, mixtures[key]["key"])
                    _encode(tmp / name, audio, rate, level)
                    songs.append(
                        {
                            "shard": shard,
                            "key": mixtures[key]["key"],
                            "audio": name,
                            "shape": list(mixture.shape),
                            "dtype": str(mixture.dtype).removeprefix("torch."),
                        }
                    )
                    originals.append(audio)
            save_file(codes, str(tmp / shard))
        shutil.copyfile(token_dir / INDEX_FILE, tmp / INDEX_FILE)
        manifest = {"format": PACK_FORMAT, "sample_rate": rate, "songs": songs, "code_dtypes": code_dtypes}
        (tmp / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")
        decoded = ((a, _decode(tmp / s["audio"], *s["shape"])) for a, s in zip(originals, songs))
        seconds = sum(s["shape"][1] for s in songs) / rate
        codes_bytes, opus_bytes = _size(list((tmp / "shards").iterdir())), _size(list((tmp / "audio").iterdir()))
        record = {
            "format": PACK_FORMAT,
            "bitrate_level": level,
            "songs": len(songs),
            "seconds": seconds,
            "codes_mb": codes_bytes / 1e6,
            "opus_mb": opus_bytes / 1e6,
            "original_mixture_mb": sum(a.size * 2 for a in originals) / 1e6,
            "opus_kbit_per_s_per_song": opus_bytes * 8 / seconds / 1e3,
            **_fidelity(decoded, rate),
            "soundfile": sf.__version__,
            "libsndfile": sf.__libsndfile_version__,
        }
        (tmp / PACK_INFO).write_text(json.dumps(record, indent=1) + "\n")
        record["total_mb"] = _size([p for p in tmp.rglob("*") if p.is_file()]) / 1e6
        (tmp / PACK_INFO).write_text(json.dumps(record, indent=1) + "\n")
        _put_in_place(tmp, pack_dir, "pack folder")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return record


def _narrowed(codes: torch.Tensor, name: str, dtypes: dict[str, str]) -> torch.Tensor:
    """Integer codes that all lie in 0..255 as uint8 (half the bytes of int16), their dtype noted
    in ``dtypes[name]``; anything else as it is."""
    if codes.is_floating_point() or codes.dtype == torch.uint8 or codes.numel() == 0:
        return codes
    if int(codes.min()) < 0 or int(codes.max()) > 255:
        return codes
    dtypes[name] = str(codes.dtype).removeprefix("torch.")
    return codes.to(torch.uint8)


def _widened(tensor: torch.Tensor, dtype: str | None) -> torch.Tensor:
    """A narrowed tensor back at its original dtype (``dtype`` None: it travelled as it is)."""
    return tensor if dtype is None else tensor.to(getattr(torch, dtype))


def unpack(pack_dir: Path, token_dir: Path, workers: int | None = None) -> int:
    """Rebuild a token folder at ``token_dir`` (written in a temporary folder beside it, then
    renamed) from ``pack_dir``; -> the number of songs."""
    manifest_path = pack_dir / MANIFEST
    if not manifest_path.is_file():
        raise PackError(f"{pack_dir} has no {MANIFEST}: not a pack folder (write one with `pack.py pack`)")
    manifest = json.loads(manifest_path.read_text())
    if manifest.get("format") not in (1, PACK_FORMAT):
        raise PackError(f"{manifest_path}: not a pack of format 1 or {PACK_FORMAT}")
    code_dtypes: dict[str, str] = manifest.get("code_dtypes", {})
    index = read_index(pack_dir)
    if index is None:
        raise PackError(f"{pack_dir} has no {INDEX_FILE}")
    _check_empty(token_dir, "token folder")
    by_shard: dict[str, list[dict[str, Any]]] = {}
    for song in manifest["songs"]:
        by_shard.setdefault(song["shard"], []).append(song)
    if set(by_shard) != set(_shards(index)):
        raise PackError(f"{manifest_path}: its shards differ from {INDEX_FILE}'s")
    tmp = _new_folder(token_dir)
    try:
        (tmp / "shards").mkdir()
        with ThreadPoolExecutor(workers or os.cpu_count() or 1) as pool:  # libsndfile runs without the GIL
            for shard, songs in by_shard.items():
                with safe_open(str(pack_dir / shard), framework="pt") as f:
                    tensors = {key: _widened(f.get_tensor(key), code_dtypes.get(f"{shard}/{key}")) for key in f.keys()}
                decoded = pool.map(lambda s: _decode(pack_dir / s["audio"], *s["shape"]), songs)
                for song, audio in zip(songs, decoded):
                    tensors[mixture_key(song["key"])] = torch.from_numpy(audio).to(getattr(torch, song["dtype"])).contiguous()
                save_file(tensors, str(tmp / shard))
        shutil.copyfile(pack_dir / INDEX_FILE, tmp / INDEX_FILE)
        _put_in_place(tmp, token_dir, "token folder")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return len(manifest["songs"])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("pack", help="token folder -> pack folder (codes + Ogg Opus mixtures)")
    p.add_argument("token_dir", type=Path)
    p.add_argument("pack_dir", type=Path)
    p.add_argument("--bitrate-level", type=float, default=DEFAULT_LEVEL, help=f"Opus compression level in [0, 1] (default {DEFAULT_LEVEL})")
    u = sub.add_parser("unpack", help="pack folder -> token folder")
    u.add_argument("pack_dir", type=Path)
    u.add_argument("token_dir", type=Path)
    u.add_argument("--workers", type=int, help="decoding threads (default: every core)")
    args = parser.parse_args(argv)
    try:
        if args.command == "pack":
            r = pack(args.token_dir, args.pack_dir, args.bitrate_level)
            print(
                f"packed {r['songs']} songs ({r['seconds']:.0f} s) into {args.pack_dir}: {r['total_mb']:.1f} MB "
                f"(codes {r['codes_mb']:.1f} MB, Opus {r['opus_mb']:.1f} MB at {r['opus_kbit_per_s_per_song']:.1f} kbit/s per song; "
                f"the float16 mixture was {r['original_mixture_mb']:.1f} MB); level {r['bitrate_level']:g}: "
                f"SNR {r['snr_db']:.2f} dB (median song {r['median_song_snr_db']:.2f}, min {r['min_song_snr_db']:.2f}), "
                f"log-mel distance {r['mel_distance']:.4f} (max {r['max_mel_distance']:.4f})"
            )
        else:
            n = unpack(args.pack_dir, args.token_dir, args.workers)
            print(f"unpacked {n} songs into {args.token_dir}")
    except (PackError, ConfigError, OSError, sf.LibsndfileError) as err:
        print(f"pack.py: error: {err}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
