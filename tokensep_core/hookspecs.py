"""pluggy hook specifications: the few places where plugins extend tokensep.

Each hook receives a table to fill (tox style); the hooks run once, when plugins are loaded.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from tokensep_core.commands import Command
    from tokensep_core.registry import ProviderRegistry
    from tokensep_core.separation.models import NamedModel
    from tokensep_core.tables import ProviderTable
    from tokensep_core.training.spec import TrainableBaseline, TrainingTaskSpec

PROJECT = "tokensep"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
"""Decorate a plugin's hook functions with this marker."""


@hookspec
def tokensep_register_components(registry: ProviderRegistry) -> None:
    """Add the plugin's components with ``registry.add(kind, name, factory, config_cls)``."""


@hookspec
def tokensep_register_commands(commands: ProviderTable[Command]) -> None:
    """Add CLI sub-commands with ``commands.add(Command(name, help, add_arguments, run, parent=...))``;
    ``parent`` puts one under a group such as ``eval`` or ``data``."""


@hookspec
def tokensep_register_training_tasks(tasks: ProviderTable[TrainingTaskSpec]) -> None:
    """Add ``tokensep train NAME`` tasks with ``tasks.add(TrainingTaskSpec(name, help, build))``."""


@hookspec
def tokensep_register_bench_baselines(baselines: ProviderTable[TrainableBaseline]) -> None:
    """Say which TrainingTask trains a registered separator's network, so a ``tokensep bench``
    baseline row can train it: ``baselines.add(TrainableBaseline(separator_name, task_cls))``."""


@hookspec
def tokensep_register_models(models: ProviderTable[NamedModel]) -> None:
    """Name separators for ``tokensep separate -n NAME`` with
    ``models.add(NamedModel(name, help, checkpoint))``, ``checkpoint()`` returning a generative
    separator's directory, or ``NamedModel(name, help, build=build)``, ``build(device)`` returning
    any Separator."""
