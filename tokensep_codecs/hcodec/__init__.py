"""HCodec: the paper's dual-path (acoustic + semantic) RVQ codec."""

from tokensep_codecs.hcodec.config import PRESETS, HCodecConfig
from tokensep_codecs.hcodec.model import HCodec

__all__ = ["HCodec", "HCodecConfig", "PRESETS"]
