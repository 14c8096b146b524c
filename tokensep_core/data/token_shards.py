"""Codec tokens cached by ``tokensep tokenize``: the on-disk format and its reader for separator
training (the ``tokens`` section of a ``tokensep train separator`` config).

A token folder holds ``index.json`` and ``shards/NNNNN.safetensors``. Song ``i`` of a shard has
the tensors ``i/codes/<stem>`` and ``i/codes/mixture`` (codes ``[N, K, F]``, int16 or int32;
``N`` codec items: the song's channels for a mono codec, else 1) and ``i/mixture`` (the mixture
audio ``[C, F * hop]`` at the codec's rate, float16, zero-padded to whole frames) for the
separator's conditioning encoder. The index records each song (name, split, frames, shard, key),
the codec (spec, checkpoint, sha256 of its weights, rates, codebooks) and the source dataset.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from pydantic import BaseModel, ConfigDict, Field
from safetensors import safe_open
from torch import Tensor
from torch.utils.data import Dataset

from tokensep_core.errors import ConfigError

INDEX_FILE = "index.json"
FORMAT_VERSION = 1
MIXTURE = "mixture"


def codes_key(song_key: str, stem: str) -> str:
    return f"{song_key}/codes/{stem}"


def mixture_key(song_key: str) -> str:
    return f"{song_key}/{MIXTURE}"


def read_index(root: str | Path) -> dict[str, Any] | None:
    """``root/index.json``, or None when there is none."""
    path = Path(root) / INDEX_FILE
    if not path.is_file():
        return None
    try:
        index = json.loads(path.read_text())
    except (OSError, ValueError) as err:
        raise ConfigError(f"{path}: unreadable ({type(err).__name__})") from None
    if not isinstance(index, dict) or index.get("format") != FORMAT_VERSION:
        raise ConfigError(f"{path}: not a token index of format {FORMAT_VERSION}")
    return index


class TokenShardsConfig(BaseModel):
    """Which token folder and split separator training reads."""

    model_config = ConfigDict(extra="forbid")

    root: Path = Field(description="folder written by `tokensep tokenize`")
    split: str | None = Field("train", description="songs of this split only; null: every song")


class TokenShards:
    """The songs of a complete token folder: codes ``[N, K, F]`` per stem and the mixture audio,
    read a slice at a time (:meth:`read`). Not a dataset: its songs have codes, not stem audio.

    Attributes: ``stems``, ``sample_rate`` (the codec's), ``hop_length``, ``num_codebooks``,
    ``codebook_size``, ``codec`` (the index's codec record)."""

    def __init__(self, config: TokenShardsConfig) -> None:
        index = read_index(config.root)
        if index is None:
            raise ConfigError(f"token shards: {config.root} has no {INDEX_FILE} (write it with `tokensep tokenize`)")
        if not index.get("complete"):
            raise ConfigError(f"token shards: {config.root} is incomplete (re-run `tokensep tokenize` to finish it)")
        self.root, self.codec = Path(config.root), index["codec"]
        self.stems: tuple[str, ...] = tuple(index["stems"])
        self.sample_rate: int = int(self.codec["sample_rate"])
        self.hop_length: int = int(self.codec["hop_length"])
        self.num_codebooks: int = int(self.codec["num_codebooks"])
        self.codebook_size: int = int(self.codec["codebook_size"])
        self.songs: list[dict[str, Any]] = [s for s in index["songs"] if config.split is None or s["split"] == config.split]
        if not self.songs:
            raise ConfigError(f"token shards: no {config.split} songs in {config.root}")

    def __len__(self) -> int:
        return len(self.songs)

    def read(self, song: int, stems: Sequence[str], start: int, frames: int) -> tuple[dict[str, Tensor], Tensor]:
        """Frames ``[start, start + frames)`` of one song -> (``{stem: codes [N, K, frames]}`` int64,
        mixture ``[C, frames * hop]`` float32); only those slices are read from disk."""
        entry = self.songs[song]
        stop = start + frames
        with safe_open(str(self.root / entry["shard"]), framework="pt") as shard:
            codes = {stem: shard.get_slice(codes_key(entry["key"], stem))[:, :, start:stop].long() for stem in stems}
            mixture = shard.get_slice(mixture_key(entry["key"]))[:, start * self.hop_length : stop * self.hop_length].float()
        return codes, mixture


class TokenCrops(Dataset):
    """``examples_per_epoch`` random aligned crops of ``frames`` code frames:
    ``{"codes": {stem: [N, K, frames]}, "mixture": [C, frames * hop]}``.

    Songs shorter than a crop are cropped at their length, so crops of one batch must come from
    songs at least ``frames`` long (the constructor refuses shorter ones). Randomness comes from
    numpy's global generator, which the trainer's batch stream seeds per item and epoch."""

    def __init__(self, shards: TokenShards, frames: int, examples_per_epoch: int, stems: Sequence[str] | None = None) -> None:
        self.shards, self.frames, self.examples = shards, frames, examples_per_epoch
        self.stems = tuple(stems) if stems is not None else shards.stems
        unknown = [s for s in self.stems if s not in shards.stems]
        if unknown:
            raise ConfigError(f"token crops: {shards.root} has no stem {', '.join(unknown)} (it has {', '.join(shards.stems)})")
        short = [s["name"] for s in shards.songs if s["frames"] < frames]
        if short:
            raise ConfigError(
                f"token crops: {len(short)} song(s) in {shards.root} are shorter than {frames} frames (e.g. {short[0]!r}); use shorter crops"
            )
        self.sample_rate = shards.sample_rate

    def __len__(self) -> int:
        return self.examples

    def __getitem__(self, index: int) -> dict[str, Any]:
        if not 0 <= index < len(self):
            raise IndexError(f"example {index} of {len(self)}")
        song = int(np.random.randint(len(self.shards)))
        start = int(np.random.randint(self.shards.songs[song]["frames"] - self.frames + 1))
        codes, mixture = self.shards.read(song, self.stems, start, self.frames)
        return {"codes": codes, "mixture": mixture}


def token_crops(shards: TokenShards, seconds: float, examples_per_epoch: int, stems: Sequence[str] | None = None) -> TokenCrops:
    """Crops of about ``seconds`` (whole code frames)."""
    return TokenCrops(shards, max(1, round(seconds * shards.sample_rate / shards.hop_length)), examples_per_epoch, stems)


def torch_dtype_for(codebook_size: int) -> torch.dtype:
    """The smallest signed integer type holding every code."""
    return torch.int16 if codebook_size <= 2**15 else torch.int32
