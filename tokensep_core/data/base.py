"""Datasets that can read part of a song: what training-time sampling needs."""

from __future__ import annotations

from abc import abstractmethod

import torch
from torch import Tensor

from tokensep_core.interfaces import Song, StemDataset


class SegmentDataset(StemDataset):
    """A :class:`StemDataset` whose songs can be read in parts, at ``sample_rate`` with ``channels``.

    Subclasses set ``stems``, ``sample_rate`` and ``channels`` and implement the abstract methods;
    whole songs (``dataset[i]``) are built from them.
    """

    channels: int

    @abstractmethod
    def name(self, index: int) -> str:
        """The song's name."""

    @abstractmethod
    def num_samples(self, index: int) -> int:
        """The song's length T at ``sample_rate``."""

    @abstractmethod
    def read_stem(self, index: int, stem: str, start: int, length: int) -> Tensor:
        """Samples ``[start, start + length)`` of a stem: ``[channels, length]`` (zero-padded past the end)."""

    def read_mixture(self, index: int, start: int, length: int) -> Tensor:
        """The mixture over the same span: ``[channels, length]``; by default the sum of the stems."""
        total = torch.zeros(self.channels, length)
        for stem in self.stems:
            total += self.read_stem(index, stem, start, length)
        return total

    def __getitem__(self, index: int) -> Song:
        if not -len(self) <= index < len(self):
            raise IndexError(f"song {index} of {len(self)}")
        index %= len(self)
        length = self.num_samples(index)
        stems = {stem: self.read_stem(index, stem, 0, length) for stem in self.stems}
        return Song(self.name(index), self.sample_rate, self.read_mixture(index, 0, length), stems)
