"""Registers tokensep_codecs' components."""

from tokensep_codecs.dac_codec import DACCodec
from tokensep_codecs.debug import DebugCodec
from tokensep_codecs.encodec_codec import EncodecCodec
from tokensep_codecs.hcodec import HCodec
from tokensep_core.hookspecs import hookimpl
from tokensep_core.registry import ProviderRegistry


@hookimpl
def tokensep_register_components(registry: ProviderRegistry) -> None:
    registry.add("codec", "debug", DebugCodec)
    registry.add("codec", "hcodec", HCodec)
    registry.add("codec", "dac", DACCodec)
    registry.add("codec", "encodec", EncodecCodec)
