"""Registers the components that live in tokensep_core itself (patterns, track orders, metrics, …)."""

from tokensep_core.hookspecs import hookimpl
from tokensep_core.registry import ProviderRegistry


@hookimpl
def tokensep_register_components(registry: ProviderRegistry) -> None:
    del registry  # filled as tokensep_core gains components
