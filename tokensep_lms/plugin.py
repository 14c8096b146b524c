"""Registers tokensep_lms' components."""

from tokensep_core.hookspecs import hookimpl
from tokensep_core.registry import ProviderRegistry

from tokensep_lms.debug import DebugLM


@hookimpl
def tokensep_register_components(registry: ProviderRegistry) -> None:
    registry.add("lm", "debug", DebugLM)
