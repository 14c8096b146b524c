"""The ``synthetic`` dataset: songs rendered on the fly from seeds, no files. With the same seed,
renderer, length, rate and test fraction, its songs are those ``tokensep data synth`` writes."""

from __future__ import annotations

from typing import Literal

import torch.nn.functional as F
from pydantic import Field
from torch import Tensor

from tokensep_core import STEMS
from tokensep_core.audio.io import convert
from tokensep_core.config import ComponentConfig, ComponentSpec
from tokensep_core.data.base import SegmentDataset
from tokensep_core.data.synth_plan import PlannedSong, plan_songs, render_song
from tokensep_core.errors import ConfigError


class SyntheticDataset(SegmentDataset):
    """Songs made by a registered renderer from seeds (see ``tokensep data synth``)."""

    class Config(ComponentConfig):
        renderer: ComponentSpec = Field(default_factory=lambda: ComponentSpec(name="procedural"))
        songs: int = Field(default=100, ge=1)
        seconds: float = Field(default=10.0, gt=0)
        sample_rate: int = Field(default=44100, gt=0)
        channels: int = Field(default=2, ge=1)
        seed: int = 0
        split: Literal["train", "test", "all"] = "train"
        test_fraction: float = Field(default=0.2, ge=0.0, le=1.0)

    def __init__(self, config: Config) -> None:
        from tokensep_core.plugins import load_registry  # the registry imports this module

        self.config = config
        self.stems, self.sample_rate, self.channels = STEMS, config.sample_rate, config.channels
        self.renderer = load_registry().build("renderer", config.renderer, source="dataset 'synthetic'")
        plan = plan_songs(config.songs, config.seed, config.test_fraction)
        self.plan: list[PlannedSong] = [s for s in plan if config.split in ("all", s.split)]
        if not self.plan:
            raise ConfigError(
                f"dataset 'synthetic': no {config.split} songs among {config.songs} with test_fraction {config.test_fraction}"
            )
        self._cached: tuple[int, dict[str, Tensor]] | None = None  # the last song, as stems are read one by one

    def __len__(self) -> int:
        return len(self.plan)

    def name(self, index: int) -> str:
        return self.plan[index].name

    def num_samples(self, index: int) -> int:
        return round(self.config.seconds * self.sample_rate)

    def _stems(self, index: int) -> dict[str, Tensor]:
        if self._cached is None or self._cached[0] != index:
            stems = render_song(self.renderer, self.plan[index], self.config.seconds, self.sample_rate)
            self._cached = (index, {name: convert(wav, self.sample_rate, self.sample_rate, self.channels) for name, wav in stems.items()})
        return self._cached[1]

    def read_stem(self, index: int, stem: str, start: int, length: int) -> Tensor:
        wav = self._stems(index)[stem][:, start : start + length]
        return F.pad(wav, (0, length - wav.shape[-1]))
