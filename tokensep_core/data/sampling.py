"""Training examples from any stem dataset: random crops, remixing stems across songs, per-stem
gain and channel swap. The mixture of an example is always the sum of its (augmented) stems.

A *paired* dataset (e.g. a separator's outputs for the same songs) is cut with the same crop,
gain and channel swap as the stems, so an example can carry what a model saw next to the truth.

Randomness: with ``seed`` set, example ``i`` of epoch ``e`` is a pure function of
(seed, e, i) (call :meth:`TrainingExamples.set_epoch`); with ``seed=None`` it is drawn from
numpy's global generator, which the trainer's batch stream seeds per item and epoch.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import torch
import torch.nn.functional as F
from pydantic import BaseModel, ConfigDict, Field, model_validator
from torch import Tensor
from torch.utils.data import Dataset

from tokensep_core.data.base import SegmentDataset
from tokensep_core.errors import ConfigError
from tokensep_core.interfaces import Song, StemDataset


class AugmentConfig(BaseModel):
    """How training examples are cut and augmented."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    seconds: float = Field(gt=0)
    """Length of every example."""
    examples_per_epoch: int = Field(default=1000, ge=1)
    remix_probability: float = Field(default=0.5, ge=0.0, le=1.0)
    """Chance that each stem of an example comes from an independently drawn song and crop."""
    gain_db: tuple[float, float] = (-6.0, 3.0)
    """Per-stem gain drawn uniformly in this range (dB); (0, 0) turns it off."""
    channel_swap_probability: float = Field(default=0.5, ge=0.0, le=1.0)
    """Chance, per stem, of swapping left and right (stereo only)."""
    seed: int | None = 0

    @model_validator(mode="after")
    def _ordered(self) -> AugmentConfig:
        if self.gain_db[0] > self.gain_db[1]:
            raise ValueError(f"gain_db: low {self.gain_db[0]} > high {self.gain_db[1]}")
        return self


class TrainingExamples(Dataset):
    """Map-style dataset of ``examples_per_epoch`` augmented examples:
    ``{"mixture": [C, T], "stems": [S, C, T], "songs": [S]}`` (``songs``: index of the song each
    stem was cut from), with stems in ``stems`` order (default: the dataset's). With ``paired``
    (the same songs, see :func:`paired_segments`) an example also holds ``"paired": [S, C, T]``,
    each paired stem cut, gained and swapped as its stem."""

    def __init__(
        self, dataset: StemDataset, config: AugmentConfig, stems: Sequence[str] | None = None, paired: StemDataset | None = None
    ) -> None:
        self.dataset = as_segments(dataset)
        if len(self.dataset) == 0:
            raise ConfigError(f"training examples: dataset {type(dataset).__name__} has no songs")
        self.stems = tuple(stems) if stems is not None else tuple(self.dataset.stems)
        unknown = [s for s in self.stems if s not in self.dataset.stems]
        if unknown:
            raise ConfigError(f"training examples: dataset has no stem {', '.join(unknown)} (it has {', '.join(self.dataset.stems)})")
        self.paired = None if paired is None else paired_segments(self.dataset, paired, self.stems, "training examples")
        self.config = config
        self.length = round(config.seconds * self.dataset.sample_rate)
        self.epoch = 0

    @property
    def sample_rate(self) -> int:
        return self.dataset.sample_rate

    def set_epoch(self, epoch: int) -> None:
        self.epoch = epoch

    def __len__(self) -> int:
        return self.config.examples_per_epoch

    def _rng(self, index: int) -> np.random.Generator:
        if self.config.seed is None:
            return np.random.default_rng(np.random.randint(0, 2**63 - 1, dtype=np.int64))
        return np.random.default_rng([self.config.seed, self.epoch, index])

    def _crop(self, rng: np.random.Generator) -> tuple[int, int]:
        song = int(rng.integers(len(self.dataset)))
        return song, int(rng.integers(max(1, self.dataset.num_samples(song) - self.length + 1)))

    def __getitem__(self, index: int) -> dict[str, Tensor]:
        if not 0 <= index < len(self):
            raise IndexError(f"example {index} of {len(self)}")
        rng = self._rng(index)
        shared = self._crop(rng)
        low, high = self.config.gain_db
        stems, paired, songs = [], [], []
        for stem in self.stems:
            song, start = self._crop(rng) if rng.random() < self.config.remix_probability else shared
            gain = float(10 ** (rng.uniform(low, high) / 20))
            cuts = [self.dataset.read_stem(song, stem, start, self.length) * gain]
            if self.paired is not None:
                cuts.append(self.paired.read_stem(song, stem, start, self.length) * gain)
            if cuts[0].shape[0] == 2 and rng.random() < self.config.channel_swap_probability:
                cuts = [cut.flip(0) for cut in cuts]
            stems.append(cuts[0])
            paired.extend(cuts[1:])
            songs.append(song)
        stacked = torch.stack(stems)
        item = {"mixture": stacked.sum(0), "stems": stacked, "songs": torch.tensor(songs)}
        return item | ({"paired": torch.stack(paired)} if paired else {})


def as_segments(dataset: StemDataset) -> SegmentDataset:
    """``dataset`` itself when it reads parts of songs, else a :class:`WholeSongs` view of it."""
    return dataset if isinstance(dataset, SegmentDataset) else WholeSongs(dataset)


def paired_segments(songs: SegmentDataset, paired: StemDataset, stems: Sequence[str], what: str) -> SegmentDataset:
    """``paired`` as segments, checked to hold ``songs``'s songs (same names, order, lengths),
    rate and channels and every one of ``stems``; a mismatch is a one-line ConfigError."""
    other = as_segments(paired)
    name = type(paired).__name__
    if len(other) != len(songs):
        raise ConfigError(f"{what}: paired dataset {name} has {len(other)} songs, the data has {len(songs)}")
    if (other.sample_rate, other.channels) != (songs.sample_rate, songs.channels):
        raise ConfigError(
            f"{what}: paired dataset {name} is {other.sample_rate} Hz x {other.channels} channels, "
            f"the data is {songs.sample_rate} Hz x {songs.channels}"
        )
    missing = [s for s in stems if s not in other.stems]
    if missing:
        raise ConfigError(f"{what}: paired dataset {name} has no stem {', '.join(missing)}")
    for i in range(len(songs)):
        if other.name(i) != songs.name(i) or other.num_samples(i) != songs.num_samples(i):
            raise ConfigError(
                f"{what}: paired song {i} is {other.name(i)!r} ({other.num_samples(i)} samples), "
                f"the data's is {songs.name(i)!r} ({songs.num_samples(i)} samples)"
            )
    return other


class WholeSongs(SegmentDataset):
    """A :class:`SegmentDataset` view of any :class:`StemDataset` (reads whole songs, keeps the last)."""

    def __init__(self, dataset: StemDataset) -> None:
        self.dataset, self.stems, self.sample_rate = dataset, tuple(dataset.stems), dataset.sample_rate
        self._last: tuple[int, Song] | None = None

    def _song(self, index: int) -> Song:
        if self._last is None or self._last[0] != index:
            self._last = (index, self.dataset[index])
        return self._last[1]

    @property
    def channels(self) -> int:  # type: ignore[override]
        return self._song(0).mixture.shape[0]

    def __len__(self) -> int:
        return len(self.dataset)

    def name(self, index: int) -> str:
        return self._song(index).name

    def num_samples(self, index: int) -> int:
        return self._song(index).mixture.shape[-1]

    def read_stem(self, index: int, stem: str, start: int, length: int) -> Tensor:
        wav = self._song(index).stems[stem][:, start : start + length]
        return F.pad(wav, (0, length - wav.shape[-1]))
