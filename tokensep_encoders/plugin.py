"""Registers tokensep_encoders' components."""

from tokensep_core.hookspecs import hookimpl
from tokensep_core.registry import ProviderRegistry

from tokensep_encoders.debug import DebugEncoder


@hookimpl
def tokensep_register_components(registry: ProviderRegistry) -> None:
    registry.add("encoder", "debug", DebugEncoder)
