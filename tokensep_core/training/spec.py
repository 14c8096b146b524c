"""What plugins register about training: ``tokensep train NAME`` tasks and the networks of
separators that ``tokensep bench`` can train as baselines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:  # at run time this module imports no torch, so `tokensep --help` stays light
    from torch.utils.data import Dataset, IterableDataset

    from tokensep_core.training.task import TrainingTask


@dataclass(frozen=True)
class TrainingTaskSpec:
    """``tokensep train NAME CONFIG``: the config's sections other than ``trainer`` go to ``build``,
    which returns the task to train and its dataset (also used by ``tokensep bench``)."""

    name: str
    help: str
    build: Callable[[dict[str, Any], str], tuple[TrainingTask, Dataset | IterableDataset]]
    """(the config's sections except ``trainer``, where they come from) -> (task, dataset)."""

    @property
    def key(self) -> str:
        return self.name


@dataclass(frozen=True)
class TrainableBaseline:
    """A registered separator whose network ``task(separator_config)`` trains; a bench baseline
    with ``train: true`` uses it, then loads the trained weights as the separator's ``checkpoint``."""

    separator: str
    task: type[TrainingTask]

    @property
    def key(self) -> str:
        return self.separator

    @property
    def task_path(self) -> str:
        """``module:Class`` of the task, as a bench row's config records it."""
        return f"{self.task.__module__}:{self.task.__qualname__}"
