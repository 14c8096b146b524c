"""``tokensep train NAME CONFIG --run-dir DIR``: the shared trainer behind one command per
registered training task (hook ``tokensep_register_training_tasks``).

The config file has a ``trainer:`` section (:class:`~tokensep_core.training.TrainerConfig`);
every other section goes to the task's ``build``, which returns the task and its dataset.
Re-running on an existing run directory resumes it.
"""

from __future__ import annotations

import argparse
from collections.abc import Iterable
from functools import partial
from typing import TYPE_CHECKING

from tokensep_core.commands import Command

if TYPE_CHECKING:
    from tokensep_core.training.spec import TrainingTaskSpec

GROUP = "train"


def task_commands(tasks: Iterable[TrainingTaskSpec]) -> list[Command]:
    """``tokensep train NAME`` for every training task."""
    return [Command(task.name, task.help, add_arguments, partial(run, task), parent=GROUP) for task in tasks]


def add_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("config", help="training config (YAML/TOML/JSON) with a 'trainer' section")
    parser.add_argument("--run-dir", required=True, help="where checkpoints, metrics.csv and tensorboard/ go")
    parser.add_argument("--device", help="override trainer.device (auto, cpu, cuda, cuda:1, mps)")
    parser.add_argument("--steps", type=int, help="override trainer.steps")
    parser.add_argument("--seed", type=int, help="override trainer.seed (data order, crops, dropout: a training seed)")


def run(task: TrainingTaskSpec, args: argparse.Namespace) -> int:
    from tokensep_core.config import read_config_file, validate_model
    from tokensep_core.training import TrainerConfig, train

    sections = read_config_file(args.config)
    trainer_section = dict(sections.pop("trainer", None) or {})
    for field in ("device", "steps", "seed"):
        if getattr(args, field) is not None:
            trainer_section[field] = getattr(args, field)
    config = validate_model(TrainerConfig, trainer_section, f"{args.config} [trainer]")
    built, dataset = task.build(sections, str(args.config))
    result = train(built, config, args.run_dir, dataset)
    print(f"step {result.step}: checkpoint {result.checkpoint}")
    return 0
