"""Which distribution provided each component of a saved model: ``config.json``'s ``components``.

A separator checkpoint (and a model exported from one) records, for each of its components,
the registered name and the distribution and version that provided it::

    "components": {"codec": {"name": "hcodec", "provider": "tokensep", "version": "0.1.0"}, ...}

Loading checks the record before building anything, so a model whose plugin is missing fails
with one line that says which package to install. A config without the record (saved before
it existed) loads as before.
"""

from __future__ import annotations

from collections.abc import Mapping
from importlib.metadata import PackageNotFoundError, version
from typing import Any

from tokensep_core.config import ComponentSpec
from tokensep_core.errors import RegistryError
from tokensep_core.registry import ComponentRegistry

SEPARATOR_KINDS: tuple[str, ...] = ("codec", "encoder", "lm", "pattern", "track_order")
"""The components of a generative separator (the sections of its ``model`` config)."""


def component_record(registry: ComponentRegistry, specs: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """``{kind: {"name", "provider", "version"}}`` for every ``specs[kind]`` (a name, a
    :class:`ComponentSpec` or a ``{name, params}`` mapping) registered in ``registry``."""
    record = {}
    for kind, spec in specs.items():
        name = _name(spec)
        if name is not None and (kind, name) in registry:
            provider = registry.get(kind, name).provider
            record[kind] = {"name": name, "provider": provider.name, "version": provider.version}
    return record


def separator_record(registry: ComponentRegistry, model: Mapping[str, Any]) -> dict[str, dict[str, str]]:
    """The record of a separator's ``model`` config: its codec, encoder, LM, pattern and track order."""
    return component_record(registry, {kind: model[kind] for kind in SEPARATOR_KINDS if kind in model})


def check_components(registry: ComponentRegistry, config: Mapping[str, Any], source: str) -> None:
    """Refuse a stored ``config`` (a checkpoint's config.json) whose recorded components are not
    all registered, naming the distribution to install (or, when it is installed, saying that it
    did not register the component). ``source`` names the file in the error."""
    record = config.get("components") if isinstance(config, Mapping) else None
    if not isinstance(record, Mapping):
        return
    for kind, entry in record.items():
        if not isinstance(entry, Mapping) or not entry.get("name") or (kind, entry["name"]) in registry:
            continue
        dist, saved = entry.get("provider", "?"), entry.get("version", "?")
        installed = _installed_version(dist)
        where = f"{source}: {kind} {entry['name']!r} was provided by {dist} {saved}"
        if installed is None:
            raise RegistryError(f"{where}, which is not installed (pip install {dist})")
        raise RegistryError(f"{where}; {dist} {installed} is installed but does not register it (see `tokensep plugins`)")


def _name(spec: Any) -> str | None:
    if isinstance(spec, str):
        return spec
    if isinstance(spec, ComponentSpec):
        return spec.name
    if isinstance(spec, Mapping) and isinstance(spec.get("name"), str):
        return spec["name"]
    return None


def _installed_version(distribution: str) -> str | None:
    try:
        return version(distribution)
    except PackageNotFoundError:
        return None
