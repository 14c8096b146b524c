"""The shared trainer used by every trainable component: ``train(task, config, run_dir, dataset)``."""

from tokensep_core.training.config import TrainerConfig
from tokensep_core.training.task import EvalState, TrainingTask
from tokensep_core.training.trainer import FitResult, Trainer, TrainingError, train

__all__ = ["EvalState", "FitResult", "Trainer", "TrainerConfig", "TrainingError", "TrainingTask", "train"]
