"""Registers tokensep_codecs' components."""

from tokensep_core.hookspecs import hookimpl
from tokensep_core.registry import ProviderRegistry

from tokensep_codecs.debug import DebugCodec


@hookimpl
def tokensep_register_components(registry: ProviderRegistry) -> None:
    registry.add("codec", "debug", DebugCodec)
