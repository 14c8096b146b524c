"""Reference separators that bound every method from below and above: mixture copy and oracle."""

from __future__ import annotations

from pydantic import Field
from torch import Tensor

from tokensep_core import STEMS
from tokensep_core.config import ComponentConfig
from tokensep_core.errors import ConfigError
from tokensep_core.interfaces import Separator, Song


class BaselineConfig(ComponentConfig):
    stems: tuple[str, ...] = Field(STEMS, min_length=1)


class MixtureCopy(Separator):
    """Lower bound: every stem estimate is the unchanged mixture.

    This is the SiSEC/MUSDB "mixture" baseline (not the mixture divided by the number of
    stems), so its SDR for a stem is the stem-to-rest ratio of the input itself.
    """

    Config = BaselineConfig

    def __init__(self, config: BaselineConfig) -> None:
        self.config = config
        self.stems = config.stems

    def separate(self, wav: Tensor, sample_rate: int) -> dict[str, Tensor]:
        """mixture ``[C, T]`` -> ``{stem: [C, T]}``, each a copy of the mixture."""
        del sample_rate
        return {stem: wav.clone() for stem in self.stems}


class Oracle(Separator):
    """Upper bound: returns the song's true stems (needs a :class:`Song` with references)."""

    Config = BaselineConfig

    def __init__(self, config: BaselineConfig) -> None:
        self.config = config
        self.stems = config.stems

    def separate(self, wav: Tensor, sample_rate: int) -> dict[str, Tensor]:
        raise ConfigError("separator 'oracle' needs the reference stems: call separate_song with a Song that has them")

    def separate_song(self, song: Song) -> dict[str, Tensor]:
        """-> ``{stem: [C, T]}`` copies of ``song.stems``; each must match the mixture's shape."""
        estimates = {}
        for stem in self.stems:
            if stem not in song.stems:
                have = ", ".join(sorted(song.stems)) or "none"
                raise ConfigError(f"separator 'oracle': song {song.name!r} has no reference stem {stem!r} (has: {have})")
            reference = song.stems[stem]
            if reference.shape != song.mixture.shape:
                raise ConfigError(
                    f"separator 'oracle': song {song.name!r} stem {stem!r} has shape {list(reference.shape)}, "
                    f"mixture has {list(song.mixture.shape)}"
                )
            estimates[stem] = reference.clone()
        return estimates
