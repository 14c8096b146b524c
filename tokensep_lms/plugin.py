"""Registers tokensep_lms' components."""

from tokensep_core.hookspecs import hookimpl
from tokensep_core.registry import ProviderRegistry
from tokensep_lms.debug import DebugLM
from tokensep_lms.llama import LlamaLM
from tokensep_lms.masked import MaskedLM


@hookimpl
def tokensep_register_components(registry: ProviderRegistry) -> None:
    registry.add("lm", "debug", DebugLM)
    registry.add("lm", "llama", LlamaLM)
    registry.add("lm", "masked", MaskedLM)
