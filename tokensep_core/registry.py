"""The component registry: ``(kind, name) -> Entry``, the single source of truth for lookups."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from tokensep_core.config import ComponentConfig, ComponentSpec, format_validation_error
from tokensep_core.errors import ConfigError, RegistryError
from tokensep_core.interfaces import KINDS, kind_interfaces


@dataclass(frozen=True)
class Provider:
    """Who registered a component: a distribution (or built-in package) and its version."""

    name: str
    version: str

    def __str__(self) -> str:
        return f"{self.name} {self.version}"


@dataclass(frozen=True)
class Entry:
    """One registered component: ``factory(config) -> component``."""

    kind: str
    name: str
    factory: Callable[[Any], Any]
    config_cls: type[ComponentConfig]
    provider: Provider
    description: str = ""

    def create(self, config: ComponentConfig) -> Any:
        """``factory(config)``, refused with a one-line error naming the provider when the built
        object does not implement the kind's interface or lacks an attribute it declares."""
        component = self.factory(config)
        where = f"{self.provider.name}: {self.kind} {self.name!r}"
        implemented = [i for i in kind_interfaces(self.kind) if isinstance(component, i)]
        if not implemented:
            raise RegistryError(f"{where}: built a {type(component).__name__}, which does not implement {_interface_names(self.kind)}")
        interface = implemented[0]
        missing = [attr for attr in _declared_attributes(interface) if not hasattr(component, attr)]
        if missing:
            raise RegistryError(
                f"{where}: built {type(component).__name__} without the {interface.__name__} attribute(s) {', '.join(missing)}"
            )
        return component


class ComponentRegistry:
    """All components, by kind and name. Filled only through the plugin hook (see plugins.py)."""

    def __init__(self) -> None:
        self._entries: dict[tuple[str, str], Entry] = {}

    def add(
        self,
        kind: str,
        name: str,
        factory: Callable[[Any], Any],
        config_cls: type[ComponentConfig] | None = None,
        *,
        provider: Provider,
        description: str = "",
    ) -> Entry:
        """Register ``factory`` under ``(kind, name)``; ``config_cls`` defaults to ``factory.Config``."""
        if kind not in KINDS:
            raise RegistryError(f"{provider.name}: unknown component kind {kind!r} for {name!r}; kinds are {', '.join(KINDS)}")
        config_cls = config_cls if config_cls is not None else getattr(factory, "Config", None)
        _check_contract(kind, name, factory, config_cls, provider)
        key = (kind, name)
        if key in self._entries:
            other = self._entries[key].provider
            raise RegistryError(f"{kind} {name!r} registered twice: by {other} and by {provider}")
        entry = Entry(kind, name, factory, config_cls, provider, description or _first_doc_line(factory))
        self._entries[key] = entry
        return entry

    def snapshot(self) -> frozenset[tuple[str, str]]:
        """The keys registered so far (see :meth:`rollback`)."""
        return frozenset(self._entries)

    def rollback(self, snapshot: frozenset[tuple[str, str]]) -> None:
        """Drop everything registered after ``snapshot`` (a registration that failed midway)."""
        for key in set(self._entries) - snapshot:
            del self._entries[key]

    def for_provider(self, provider: Provider) -> ProviderRegistry:
        """A view whose ``add`` records ``provider``: what a plugin's hook receives."""
        return ProviderRegistry(self, provider)

    def get(self, kind: str, name: str) -> Entry:
        """The entry for ``(kind, name)``; an unknown name lists the known ones, closest first."""
        try:
            return self._entries[(kind, name)]
        except KeyError:
            known = self.names(kind)
            if kind not in KINDS:
                raise RegistryError(f"unknown component kind {kind!r}; kinds are {', '.join(KINDS)}") from None
            closest = difflib.get_close_matches(name, known, n=len(known), cutoff=0.0)
            listing = ", ".join(closest) if closest else "none registered"
            raise RegistryError(f"unknown {kind} {name!r}; known {kind}s: {listing}") from None

    def names(self, kind: str) -> list[str]:
        """Sorted names registered under ``kind``."""
        return sorted(n for k, n in self._entries if k == kind)

    def entries(self) -> Iterator[Entry]:
        """Every entry, sorted by kind then name."""
        for key in sorted(self._entries):
            yield self._entries[key]

    def __contains__(self, key: tuple[str, str]) -> bool:
        return key in self._entries

    def make_config(self, kind: str, name: str, params: Mapping[str, Any] | None = None, source: str = "") -> ComponentConfig:
        """Validate ``params`` against the component's Config; errors name source, component, field."""
        entry = self.get(kind, name)
        try:
            return entry.config_cls.model_validate(dict(params or {}))
        except ValidationError as err:
            where = f"{source}: " if source else ""
            raise ConfigError(f"{where}{kind} {name!r}: {format_validation_error(err)}") from None

    def build(self, kind: str, spec: ComponentSpec | Mapping[str, Any] | str, source: str = "", **overrides: Any) -> Any:
        """Build a component from a spec (``{name, params}`` or a bare name), validating its params."""
        if isinstance(spec, str):
            spec = ComponentSpec(name=spec)
        elif not isinstance(spec, ComponentSpec):
            spec = ComponentSpec.model_validate(spec)
        params = {**spec.params, **overrides}
        config = self.make_config(kind, spec.name, params, source)
        return self.get(kind, spec.name).create(config)


class ProviderRegistry:
    """The registry as one provider sees it while registering."""

    def __init__(self, registry: ComponentRegistry, provider: Provider) -> None:
        self.registry = registry
        self.provider = provider

    def add(
        self, kind: str, name: str, factory: Callable[[Any], Any], config_cls: type[ComponentConfig] | None = None, *, description: str = ""
    ) -> Entry:
        """Register a component on behalf of this provider (see :meth:`ComponentRegistry.add`)."""
        return self.registry.add(kind, name, factory, config_cls, provider=self.provider, description=description)


def _check_contract(kind: str, name: str, factory: Any, config_cls: Any, provider: Provider) -> None:
    """Refuse what registration can already see is broken."""
    if not callable(factory):
        raise RegistryError(f"{provider.name}: {kind} {name!r}: factory {factory!r} is not callable")
    if not (isinstance(config_cls, type) and issubclass(config_cls, BaseModel)):
        raise RegistryError(f"{provider.name}: {kind} {name!r}: needs a pydantic Config class, got {config_cls!r}")
    if config_cls.model_config.get("extra") != "forbid":
        raise RegistryError(f"{provider.name}: {kind} {name!r}: {config_cls.__name__} must forbid extra fields (subclass ComponentConfig)")
    if isinstance(factory, type) and not issubclass(factory, kind_interfaces(kind)):
        raise RegistryError(f"{provider.name}: {kind} {name!r}: {factory.__name__} does not implement {_interface_names(kind)}")


def _interface_names(kind: str) -> str:
    """``Codec``, or ``TokenLM or MaskedTokenLM`` for a kind with several families."""
    return " or ".join(i.__name__ for i in kind_interfaces(kind))


def _declared_attributes(interface: type) -> list[str]:
    """Attributes an interface declares by annotation without a default (e.g. ``Codec.sample_rate``)."""
    names: list[str] = []
    for cls in reversed(interface.__mro__):
        if cls.__module__ == "tokensep_core.interfaces":
            names += [n for n in inspect.get_annotations(cls) if not hasattr(interface, n) and n not in names]
    return names


def _first_doc_line(obj: Any) -> str:
    doc = (getattr(obj, "__doc__", None) or "").strip()
    return doc.splitlines()[0] if doc else ""
