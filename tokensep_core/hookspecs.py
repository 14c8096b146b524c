"""pluggy hook specifications: the few places where plugins extend tokensep."""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from tokensep_core.registry import ProviderRegistry

PROJECT = "tokensep"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)
"""Decorate a plugin's hook functions with this marker."""


@hookspec
def tokensep_register_components(registry: ProviderRegistry) -> None:
    """Add the plugin's components with ``registry.add(kind, name, factory, config_cls)``."""
