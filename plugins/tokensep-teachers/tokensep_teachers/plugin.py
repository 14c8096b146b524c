"""Registers the teacher separators with tokensep (entry point group ``tokensep``)."""

from tokensep_core.hookspecs import hookimpl
from tokensep_core.registry import ProviderRegistry
from tokensep_teachers.bs_roformer import BSRoformerSeparator
from tokensep_teachers.htdemucs import HTDemucsSeparator


@hookimpl
def tokensep_register_components(registry: ProviderRegistry) -> None:
    registry.add("separator", "htdemucs", HTDemucsSeparator)
    registry.add("separator", "bs_roformer", BSRoformerSeparator)
