"""The ``stems_folder`` dataset: any folder of song folders, each with one audio file per stem."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field

from tokensep_core.config import ComponentConfig
from tokensep_core.data.folder import FolderDataset, scan_song, song_folders
from tokensep_core.errors import ConfigError


class StemsFolderDataset(FolderDataset):
    """Song folders with any stem names (``root/SONG/STEM.wav``); the mixture file is optional
    (default: the sum of the stems)."""

    class Config(ComponentConfig):
        root: Path
        stems: tuple[str, ...] | None = Field(default=None, min_length=1)
        """Stem names (file names without extension); None: those of the first song."""
        mixture: str = "mixture"
        """Name of the mixture file, used when present."""
        sample_rate: int = 44100
        channels: int = 2
        excerpt_seconds: float | None = Field(
            None, gt=0, description="cut every song into consecutive excerpts of this length (a shorter tail is dropped)"
        )

    def __init__(self, config: Config) -> None:
        folders = song_folders(config.root)
        if not folders:
            raise ConfigError(f"dataset 'stems_folder': no song folders with audio files in {config.root}")
        stems = config.stems or tuple(scan_song(folders[0], None, config.mixture).stems)
        super().__init__(
            [scan_song(f, stems, config.mixture) for f in folders],
            tuple(stems),
            config.sample_rate,
            config.channels,
            config.excerpt_seconds,
        )
