"""``tokensep train WHAT CONFIG --run-dir DIR``: the shared trainer behind one command per model.

A model's training module defines ``TRAIN_COMMAND = TrainCommand(name, help, build)`` and is
listed in :data:`TRAIN_COMMAND_MODULES`. The config file has a ``trainer:`` section
(:class:`~tokensep_core.training.TrainerConfig`); every other section goes to ``build``, which
returns the task and its dataset. Re-running on an existing run directory resumes it.
"""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from torch.utils.data import Dataset, IterableDataset

from tokensep_core.config import read_config_file, validate_model
from tokensep_core.training import TrainerConfig, TrainingTask, train

TRAIN_COMMAND_MODULES: tuple[str, ...] = ("tokensep_core.separation.training", "tokensep_codecs.training")
"""Modules defining ``TRAIN_COMMAND``; each becomes ``tokensep train <name>``."""


@dataclass(frozen=True)
class TrainCommand:
    """One ``tokensep train`` sub-command."""

    name: str
    help: str
    build: Callable[[dict[str, Any], str], tuple[TrainingTask, Dataset | IterableDataset]]
    """(the config's sections except ``trainer``, the config path) -> (task, dataset)."""


def load_commands() -> list[TrainCommand]:
    return [importlib.import_module(name).TRAIN_COMMAND for name in TRAIN_COMMAND_MODULES]


def add_parser(subparsers: argparse._SubParsersAction, commands: Sequence[TrainCommand] | None = None) -> None:
    parser = subparsers.add_parser("train", help="train a model with the shared trainer (resumes an existing run directory)")
    what = parser.add_subparsers(dest="train_command", metavar="WHAT")
    parser.set_defaults(func=lambda args: _usage(parser))
    for command in load_commands() if commands is None else commands:
        sub = what.add_parser(command.name, help=command.help)
        sub.add_argument("config", help="training config (YAML/TOML/JSON) with a 'trainer' section")
        sub.add_argument("--run-dir", required=True, help="where checkpoints, metrics.csv and tensorboard/ go")
        sub.add_argument("--device", help="override trainer.device (auto, cpu, cuda, cuda:1, mps)")
        sub.add_argument("--steps", type=int, help="override trainer.steps")
        sub.set_defaults(func=lambda args, command=command: run(command, args))


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help()
    return 2


def run(command: TrainCommand, args: argparse.Namespace) -> int:
    sections = read_config_file(args.config)
    trainer_section = dict(sections.pop("trainer", None) or {})
    for field in ("device", "steps"):
        if getattr(args, field) is not None:
            trainer_section[field] = getattr(args, field)
    config = validate_model(TrainerConfig, trainer_section, f"{args.config} [trainer]")
    task, dataset = command.build(sections, str(args.config))
    result = train(task, config, args.run_dir, dataset)
    print(f"step {result.step}: checkpoint {result.checkpoint}")
    return 0
