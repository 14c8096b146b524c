"""Helpers shared by the variants built around an inner HCodec."""

from __future__ import annotations

from tokensep_codecs.hcodec import HCodecConfig
from tokensep_core.interfaces import Codec


def hcodec_part(config: HCodecConfig) -> HCodecConfig:
    """The plain HCodec config inside a variant's config (the variant's extra fields dropped)."""
    return HCodecConfig.model_validate({name: getattr(config, name) for name in HCodecConfig.model_fields})


def tokens_per_second(codec: Codec) -> float:
    """Tokens an LM generates per second of audio: ``frame_rate * num_codebooks``."""
    return codec.frame_rate * codec.num_codebooks
