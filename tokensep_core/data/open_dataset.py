"""The dataset a command names: a MUSDB18-HQ-layout folder, or a config file holding a dataset spec."""

from __future__ import annotations

from pathlib import Path

from tokensep_core.config import ComponentSpec, read_config_file, validate_model
from tokensep_core.data.musdb import MusdbDataset
from tokensep_core.errors import ConfigError
from tokensep_core.interfaces import StemDataset
from tokensep_core.registry import ComponentRegistry


def open_dataset(data: str | Path | None, data_config: str | Path | None, split: str, registry: ComponentRegistry) -> StemDataset:
    """``split`` of the folder ``data`` at its files' own sample rate, or the dataset spec
    ``{name, params}`` in the file ``data_config`` (exactly one of the two is given)."""
    if (data is None) == (data_config is None):
        raise ConfigError("give either DATA (a dataset folder) or --data-config FILE")
    if data_config is not None:
        spec = validate_model(ComponentSpec, read_config_file(data_config), str(data_config))
        return registry.build("dataset", spec, source=str(data_config))
    dataset = MusdbDataset(MusdbDataset.Config(root=data, split=split))
    native = dataset.songs[0].sample_rate
    if native != dataset.sample_rate:  # read at the files' own rate
        dataset = MusdbDataset(MusdbDataset.Config(root=data, split=split, sample_rate=native))
    return dataset
