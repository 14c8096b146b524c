"""The ``musdb`` dataset: a MUSDB18-HQ folder ``root/{train,test}/SONG/{mixture,vocals,drums,bass,other}.wav``."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field

from tokensep_core import STEMS
from tokensep_core.config import ComponentConfig
from tokensep_core.data.folder import FolderDataset, scan_song, song_folders
from tokensep_core.errors import ConfigError

VALIDATION_TRACKS: frozenset[str] = frozenset(
    {
        "Actions - One Minute Smile",
        "Alexander Ross - Goodbye Bolero",
        "ANiMAL - Rockshow",
        "Clara Berry And Wooldog - Waltz For My Victims",
        "Fergessen - Nos Palpitants",
        "James May - On The Line",
        "Johnny Lokke - Promises & Lies",
        "Leaf - Summerghost",
        "Meaxic - Take A Step",
        "Patrick Talbot - A Reason To Leave",
        "Skelpolu - Human Mistakes",
        "Traffic Experiment - Sirens",
        "Triviul - Angelsaint",
        "Young Griffo - Pennies",
    }
)
"""musdb's fixed validation tracks, taken out of the train folder."""


class MusdbDataset(FolderDataset):
    """MUSDB18-HQ (wav) folder; splits train (minus musdb's 14 validation tracks), valid, test,
    and ``all``: train + test, or, in a folder without them, the song folders directly in root."""

    class Config(ComponentConfig):
        root: Path
        split: Literal["train", "valid", "test", "all"] = "train"
        sample_rate: int = 44100
        channels: int = 2
        excerpt_seconds: float | None = Field(
            None, gt=0, description="cut every song into consecutive excerpts of this length (a shorter tail is dropped)"
        )

    def __init__(self, config: Config) -> None:
        if config.split == "all":
            splits = [config.root / name for name in ("train", "test") if (config.root / name).is_dir()]
            folders = [f for split in splits for f in song_folders(split)] if splits else song_folders(config.root)
            if not folders:
                raise ConfigError(f"dataset 'musdb': no song folders in {config.root}")
            super().__init__([scan_song(f, STEMS) for f in folders], STEMS, config.sample_rate, config.channels, config.excerpt_seconds)
            return
        folder = config.root / ("test" if config.split == "test" else "train")
        if not folder.is_dir():
            raise ConfigError(
                f"dataset 'musdb': {config.root} has no '{folder.name}' folder (expected root/{{train,test}}/SONG/{{mixture,{','.join(STEMS)}}}.wav)"
            )
        folders = song_folders(folder)
        if config.split == "valid":
            folders = [f for f in folders if f.name in VALIDATION_TRACKS]
        elif config.split == "train":
            folders = [f for f in folders if f.name not in VALIDATION_TRACKS]
        if not folders:
            raise ConfigError(f"dataset 'musdb': no {config.split} songs in {folder}")
        super().__init__([scan_song(f, STEMS) for f in folders], STEMS, config.sample_rate, config.channels, config.excerpt_seconds)
