"""The component registry: ``(kind, name) -> Entry``, the single source of truth for lookups."""

from __future__ import annotations

import difflib
import inspect
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from typing import Any

from pydantic import BaseModel, ValidationError

from tokensep_core.config import ComponentConfig, ComponentSpec, format_validation_error
from tokensep_core.deprecations import dac_deprecations_silenced
from tokensep_core.errors import ConfigError, RegistryError
from tokensep_core.interfaces import KINDS, kind_interfaces
from tokensep_core.providers import Clash, Provider


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
        object does not implement the kind's interface or lacks an attribute it declares. The
        FutureWarnings of dac's modules are silenced while it builds (tokensep_core.deprecations)."""
        with dac_deprecations_silenced():
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
        """Register ``factory`` under ``(kind, name)``; ``config_cls`` defaults to ``factory.Config``.
        A name that is taken is refused naming both providers."""
        entry = make_entry(kind, name, factory, config_cls, provider=provider, description=description)
        if (kind, name) in self._entries:
            raise RegistryError(f"{kind} {name!r} registered twice: by {self._entries[kind, name].provider} and by {provider}")
        self._entries[kind, name] = entry
        return entry

    def settle(self, claims: Iterable[Entry]) -> list[Clash]:
        """Add the entries that plugins claimed, by the clash rule: a name taken already (a built-in,
        registered first) stays with its holder, and a name that several new providers claim under
        one kind is refused for all of them. -> the refused names, sorted by kind then name.

        The outcome depends only on who claims what, not on the order of ``claims``."""
        by_key: dict[tuple[str, str], list[Entry]] = {}
        for entry in claims:
            by_key.setdefault((entry.kind, entry.name), []).append(entry)
        clashes = []
        for key in sorted(by_key):
            entries = by_key[key]
            holder = self._entries.get(key)
            if holder is None and len(entries) == 1:
                self._entries[key] = entries[0]
                continue
            claimants = tuple(sorted({e.provider for e in entries}, key=lambda p: (p.name, p.version)))
            clashes.append(Clash(key[0], key[1], claimants, holder.provider if holder is not None else None))
        return clashes

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

    def build(
        self, kind: str, spec: ComponentSpec | Mapping[str, Any] | str, params: Mapping[str, Any] | None = None, *, source: str = ""
    ) -> Any:
        """Build a component, validating its params: ``build("codec", "hcodec", {"preset": "tiny"})``,
        or from a spec ``build("codec", {"name": "hcodec", "params": {...}})`` (``params`` given
        as well override the spec's). ``source`` (keyword only) names where the spec came from in
        error messages, e.g. a config file."""
        if params is not None and not isinstance(params, Mapping):
            raise RegistryError(
                f"build({kind!r}, ...): params must be a mapping, got {type(params).__name__} {params!r} (the source is keyword-only: source=...)"
            )
        if not isinstance(source, str):
            raise RegistryError(
                f"build({kind!r}, ...): source must be a string naming where the spec came from, got {type(source).__name__}"
            )
        if isinstance(spec, str):
            spec = ComponentSpec(name=spec)
        elif not isinstance(spec, ComponentSpec):
            spec = ComponentSpec.model_validate(spec)
        config = self.make_config(kind, spec.name, {**spec.params, **(params or {})}, source)
        return self.get(kind, spec.name).create(config)


class ProviderRegistry:
    """The registry as one provider sees it while registering: each ``add`` is checked at once and
    held in :attr:`claims` until every plugin has registered; then
    :meth:`ComponentRegistry.settle` applies the clash rule to all claims together."""

    def __init__(self, registry: ComponentRegistry, provider: Provider) -> None:
        self.registry = registry
        self.provider = provider
        self.claims: list[Entry] = []

    def add(
        self, kind: str, name: str, factory: Callable[[Any], Any], config_cls: type[ComponentConfig] | None = None, *, description: str = ""
    ) -> Entry:
        """Claim ``(kind, name)`` for this provider (checked like :meth:`ComponentRegistry.add`)."""
        entry = make_entry(kind, name, factory, config_cls, provider=self.provider, description=description)
        if any((claim.kind, claim.name) == (kind, name) for claim in self.claims):
            raise RegistryError(f"{self.provider.name}: {kind} {name!r} registered twice by the same plugin")
        self.claims.append(entry)
        return entry


def make_entry(
    kind: str,
    name: str,
    factory: Callable[[Any], Any],
    config_cls: type[ComponentConfig] | None = None,
    *,
    provider: Provider,
    description: str = "",
) -> Entry:
    """An :class:`Entry`, refused when registration can already see that it is broken."""
    if kind not in KINDS:
        raise RegistryError(f"{provider.name}: unknown component kind {kind!r} for {name!r}; kinds are {', '.join(KINDS)}")
    config_cls = config_cls if config_cls is not None else getattr(factory, "Config", None)
    _check_contract(kind, name, factory, config_cls, provider)
    return Entry(kind, name, factory, config_cls, provider, description or _first_doc_line(factory))


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
    """The interface(s) a component of ``kind`` must implement, by name (``Codec``, ``LanguageModel``, …)."""
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
