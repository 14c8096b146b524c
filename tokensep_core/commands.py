"""A ``tokensep`` sub-command as a plugin registers it (hook ``tokensep_register_commands``)."""

from __future__ import annotations

import argparse
import importlib
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from tokensep_core.deprecations import dac_deprecations_silenced
from tokensep_core.errors import RegistryError
from tokensep_core.providers import Provider
from tokensep_core.tables import Table


@dataclass(frozen=True)
class Command:
    """``tokensep NAME`` (or ``tokensep PARENT NAME``): ``add_arguments(parser)`` declares its
    arguments and ``run(args) -> exit code`` runs it. Without ``run`` it is a group whose
    sub-commands name it as their ``parent`` (``eval``, ``data``, ``train``)."""

    name: str
    help: str
    add_arguments: Callable[[argparse.ArgumentParser], None] | None = None
    run: Callable[[argparse.Namespace], int] | None = None
    parent: str | None = None

    @property
    def key(self) -> str:
        return f"{self.parent} {self.name}" if self.parent else self.name

    @property
    def is_group(self) -> bool:
        return self.run is None


class CommandTable(Table[Command]):
    """Every sub-command, in registration order; a sub-command's group is registered first."""

    def __init__(self) -> None:
        super().__init__("command")

    def settle_order(self, entry: Command) -> int:
        return 0 if entry.is_group else 1

    def add(self, entry: Command, provider: Provider) -> None:
        if entry.parent is not None:
            group = self.get(entry.parent)
            if group is None or not group.is_group:
                groups = ", ".join(c.name for c in self if c.is_group) or "none"
                raise RegistryError(f"{provider.name}: command {entry.key!r}: no command group {entry.parent!r} (groups: {groups})")
            if entry.is_group:
                raise RegistryError(f"{provider.name}: command {entry.key!r}: groups cannot be nested; give it a run function")
        super().add(entry, provider)


def lazy(module: str, function: str) -> Callable[..., Any]:
    """``module.function``, imported at its first call: a plugin registers its commands (and
    training tasks) with these, so listing them (``tokensep --help``) imports no torch."""

    def call(*args: Any, **kwargs: Any) -> Any:
        with dac_deprecations_silenced():  # the module may import dac, as plugins do (plugins.py)
            imported = importlib.import_module(module)
        return getattr(imported, function)(*args, **kwargs)

    call.__module__, call.__name__, call.__qualname__ = module, function, function
    return call
