"""Registers tokensep_encoders' components."""

from tokensep_core.hookspecs import hookimpl
from tokensep_core.registry import ProviderRegistry
from tokensep_encoders.conformer import ConformerEncoder
from tokensep_encoders.conv import ConvEncoder
from tokensep_encoders.debug import DebugEncoder
from tokensep_encoders.frozen_codec import FrozenCodecEncoder


@hookimpl
def tokensep_register_components(registry: ProviderRegistry) -> None:
    registry.add("encoder", "debug", DebugEncoder)
    registry.add("encoder", "conformer", ConformerEncoder)
    registry.add("encoder", "frozen_codec", FrozenCodecEncoder)
    registry.add("encoder", "conv", ConvEncoder)
