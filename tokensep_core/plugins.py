"""Building the plugin manager and the registry on demand (no import-time globals).

Built-in packages are registered as plugins exactly like third-party packages, which declare an
entry point in the group ``tokensep``. Set ``TOKENSEP_DISABLE_PLUGIN_AUTOLOAD=1`` to load only
the built-in packages. Besides components, plugins fill the tables of the other hooks
(CLI commands, training tasks, trainable bench baselines, named models). A plugin that fails to import or
register is recorded in ``LoadedPlugins.failures`` by distribution name; the others still load.

Clash rule: a component name is unique per kind. Built-in components are registered first and
keep their names: a plugin's component of the same kind and name is refused. A name that two or
more third-party plugins register under one kind is refused for all of them. Every refusal is a
failure of each refused provider naming the kind, the name and the providers; the rest of each
plugin's components stay registered. The outcome does not depend on the order plugins load in.

:func:`load_commands` fills the command and training-task tables only (what ``tokensep --help``
lists and the parser needs): no component is registered, so with plugin modules that import
their components inside their hooks (as the built-in ones do) no torch is imported.
"""

from __future__ import annotations

import importlib
import os
from dataclasses import dataclass, field
from importlib.metadata import EntryPoint, entry_points
from types import ModuleType
from typing import TYPE_CHECKING

import pluggy

from tokensep_core import __version__, hookspecs
from tokensep_core.commands import CommandTable
from tokensep_core.deprecations import dac_deprecations_silenced
from tokensep_core.providers import Provider
from tokensep_core.separation.models import NamedModel
from tokensep_core.tables import Table
from tokensep_core.training.spec import TrainableBaseline, TrainingTaskSpec

if TYPE_CHECKING:
    from tokensep_core.registry import ComponentRegistry, Entry

ENTRY_POINT_GROUP = "tokensep"
AUTOLOAD_ENV = "TOKENSEP_DISABLE_PLUGIN_AUTOLOAD"
BUILTIN_PLUGINS: tuple[str, ...] = (
    "tokensep_core.builtin_components",
    "tokensep_core.cli.builtin_commands",
    "tokensep_codecs.plugin",
    "tokensep_encoders.plugin",
    "tokensep_lms.plugin",
)


@dataclass(frozen=True)
class PluginFailure:
    """A plugin that could not be loaded or could not register, and why (one line)."""

    distribution: str
    reason: str


@dataclass
class LoadedCommands:
    """The outcome of :func:`load_commands`: the plugin manager, the command and training-task
    tables, and what failed."""

    manager: pluggy.PluginManager
    providers: dict[str, Provider] = field(default_factory=dict)
    failures: list[PluginFailure] = field(default_factory=list)
    commands: CommandTable = field(default_factory=CommandTable)
    training_tasks: Table[TrainingTaskSpec] = field(default_factory=lambda: Table("training task"))


def _new_registry() -> ComponentRegistry:
    from tokensep_core.registry import ComponentRegistry  # imports the interfaces, hence torch

    return ComponentRegistry()


@dataclass
class LoadedPlugins(LoadedCommands):
    """The outcome of loading: the plugin manager, the filled registry and tables, and what failed."""

    registry: ComponentRegistry = field(default_factory=_new_registry)
    trainable_baselines: Table[TrainableBaseline] = field(default_factory=lambda: Table("trainable baseline"))
    models: Table[NamedModel] = field(default_factory=lambda: Table("model"))


def autoload_enabled() -> bool:
    """False when the environment variable disables entry-point autoloading."""
    return os.environ.get(AUTOLOAD_ENV, "").strip().lower() not in ("1", "true", "yes", "on")


def load_plugins(autoload: bool | None = None) -> LoadedPlugins:
    """Register built-in packages, then (unless disabled) entry points of group ``tokensep``,
    and let each one fill the registry."""
    loaded = LoadedPlugins(_manager())
    _add_plugins(loaded, autoload)
    _register_components(loaded)
    _fill_tables(
        loaded,
        (
            ("tokensep_register_commands", loaded.commands),
            ("tokensep_register_training_tasks", loaded.training_tasks),
            ("tokensep_register_bench_baselines", loaded.trainable_baselines),
            ("tokensep_register_models", loaded.models),
        ),
    )
    loaded.failures.sort(key=lambda failure: (failure.distribution, failure.reason))
    return loaded


def load_commands(autoload: bool | None = None) -> LoadedCommands:
    """Like :func:`load_plugins`, but only the commands and training tasks are registered (no
    component, bench baseline or model hook runs): what ``tokensep`` needs to build its parser."""
    loaded = LoadedCommands(_manager())
    _add_plugins(loaded, autoload)
    _fill_tables(loaded, (("tokensep_register_commands", loaded.commands), ("tokensep_register_training_tasks", loaded.training_tasks)))
    loaded.failures.sort(key=lambda failure: (failure.distribution, failure.reason))
    return loaded


def _manager() -> pluggy.PluginManager:
    manager = pluggy.PluginManager(hookspecs.PROJECT)
    manager.add_hookspecs(hookspecs)
    return manager


def _add_plugins(loaded: LoadedCommands, autoload: bool | None) -> None:
    """Import and register the built-in packages, then (unless disabled) the entry points."""
    builtin_provider = Provider("tokensep", __version__)
    for module_name in BUILTIN_PLUGINS:
        with dac_deprecations_silenced():  # a plugin module may import dac
            module = importlib.import_module(module_name)
        _add_plugin(loaded, module, module_name, builtin_provider)
    if autoload if autoload is not None else autoload_enabled():
        for ep in sorted(entry_points(group=ENTRY_POINT_GROUP), key=lambda e: e.name):
            _load_entry_point(loaded, ep)


def _register_components(loaded: LoadedPlugins) -> None:
    """Run every plugin's ``tokensep_register_components`` and settle the claims: built-ins
    first, then the third-party plugins all together (the clash rule, see
    :meth:`ComponentRegistry.settle`). A hook that raises registers nothing."""
    builtin: list[Entry] = []
    third_party: list[Entry] = []
    for impl in loaded.manager.hook.tokensep_register_components.get_hookimpls():
        provider = loaded.providers[impl.plugin_name]
        view = loaded.registry.for_provider(provider)
        try:
            with dac_deprecations_silenced():  # a hook may import dac's modules
                impl.function(registry=view)
        except Exception as err:  # a broken plugin must not take the others down
            loaded.failures.append(PluginFailure(provider.name, f"registration failed: {_one_line(err)}"))
            continue
        (builtin if impl.plugin_name in BUILTIN_PLUGINS else third_party).extend(view.claims)
    for clashes in (loaded.registry.settle(builtin), loaded.registry.settle(third_party)):
        for clash in clashes:
            loaded.failures += [PluginFailure(provider.name, f"name clash: {clash}") for provider in clash.claimants]


def load_registry(autoload: bool | None = None) -> ComponentRegistry:
    """The registry with every loadable plugin's components."""
    return load_plugins(autoload).registry


def _fill_tables(loaded: LoadedCommands, hooks: tuple[tuple[str, Table], ...]) -> None:
    """Let every plugin fill the tables of ``hooks`` (hook name, table), under the same clash
    rule as components (built-ins first, then the third-party claims settled together); a plugin
    whose hook raises keeps nothing in that table and is recorded in ``failures``."""
    for hook_name, table in hooks:
        builtin: list = []
        third_party: list = []
        for impl in getattr(loaded.manager.hook, hook_name).get_hookimpls():
            provider = loaded.providers[impl.plugin_name]
            view = table.for_provider(provider)
            try:
                impl.function(**dict.fromkeys(impl.argnames, view))
            except Exception as err:  # a broken plugin must not take the others down
                loaded.failures.append(PluginFailure(provider.name, f"{table.what} registration failed: {_one_line(err)}"))
                continue
            (builtin if impl.plugin_name in BUILTIN_PLUGINS else third_party).extend(view.claims)
        for refusals in (table.settle(builtin), table.settle(third_party)):
            loaded.failures += [PluginFailure(provider.name, reason) for provider, reason in refusals]


def _load_entry_point(loaded: LoadedCommands, ep: EntryPoint) -> None:
    dist_name = ep.dist.name if ep.dist is not None else ep.name
    provider = Provider(dist_name, ep.dist.version if ep.dist is not None else "unknown")
    try:
        with dac_deprecations_silenced():  # a plugin may import dac too
            plugin = ep.load()
    except Exception as err:
        loaded.failures.append(PluginFailure(dist_name, f"import of {ep.value!r} failed: {_one_line(err)}"))
        return
    _add_plugin(loaded, plugin, f"{dist_name}:{ep.name}", provider)


def _add_plugin(loaded: LoadedCommands, plugin: ModuleType | object, plugin_name: str, provider: Provider) -> None:
    try:
        loaded.manager.register(plugin, name=plugin_name)
    except Exception as err:
        loaded.failures.append(PluginFailure(provider.name, f"not a valid plugin: {_one_line(err)}"))
        return
    loaded.providers[plugin_name] = provider


def _one_line(err: BaseException) -> str:
    text = str(err).strip().splitlines()
    return f"{type(err).__name__}: {text[0]}" if text else type(err).__name__
