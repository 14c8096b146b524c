"""Registers tokensep_lms' components, imported inside the hook: listing the commands imports no torch."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tokensep_core.hookspecs import hookimpl

if TYPE_CHECKING:
    from tokensep_core.registry import ProviderRegistry


@hookimpl
def tokensep_register_components(registry: ProviderRegistry) -> None:
    from tokensep_lms.debug import DebugLM
    from tokensep_lms.llama import LlamaLM
    from tokensep_lms.masked import MaskedLM

    registry.add("lm", "debug", DebugLM)
    registry.add("lm", "llama", LlamaLM)
    registry.add("lm", "masked", MaskedLM)
