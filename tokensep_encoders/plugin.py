"""Registers tokensep_encoders' components, imported inside the hook: listing the commands imports no torch."""

from __future__ import annotations

from typing import TYPE_CHECKING

from tokensep_core.hookspecs import hookimpl

if TYPE_CHECKING:
    from tokensep_core.registry import ProviderRegistry


@hookimpl
def tokensep_register_components(registry: ProviderRegistry) -> None:
    from tokensep_encoders.conformer import ConformerEncoder
    from tokensep_encoders.conv import ConvEncoder
    from tokensep_encoders.debug import DebugEncoder
    from tokensep_encoders.frozen_codec import FrozenCodecEncoder

    registry.add("encoder", "debug", DebugEncoder)
    registry.add("encoder", "conformer", ConformerEncoder)
    registry.add("encoder", "frozen_codec", FrozenCodecEncoder)
    registry.add("encoder", "conv", ConvEncoder)
