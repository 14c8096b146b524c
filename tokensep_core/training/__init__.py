"""The shared trainer used by every trainable component: ``train(task, config, run_dir, dataset)``.

Its names are imported on first use (PEP 562), so importing a light submodule such as
``tokensep_core.training.spec`` does not import torch."""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from tokensep_core.training.config import TrainerConfig
    from tokensep_core.training.task import EvalState, TrainingTask
    from tokensep_core.training.trainer import FitResult, Trainer, TrainingError, train

_WHERE = {
    "TrainerConfig": "config",
    "EvalState": "task",
    "TrainingTask": "task",
    "FitResult": "trainer",
    "Trainer": "trainer",
    "TrainingError": "trainer",
    "train": "trainer",
}

__all__ = ["EvalState", "FitResult", "Trainer", "TrainerConfig", "TrainingError", "TrainingTask", "train"]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(import_module(f"{__name__}.{_WHERE[name]}"), name)
