"""The entry point tokensep loads (group ``tokensep``): registers this package's components."""

from tokensep_core.hookspecs import hookimpl
from tokensep_core.registry import ProviderRegistry
from tokensep_example.envelope import EnvelopeDistance
from tokensep_example.mulaw import MuLawCodec
from tokensep_example.stft_encoder import StftEncoder


@hookimpl
def tokensep_register_components(registry: ProviderRegistry) -> None:
    registry.add("codec", "mulaw", MuLawCodec)
    registry.add("encoder", "stft", StftEncoder)
    registry.add("metric", "envelope_distance", EnvelopeDistance)
