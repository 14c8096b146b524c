"""The experiment's components chosen by config and built from the registry."""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, Field

from tokensep_core import STEMS
from tokensep_core.config import ComponentSpec
from tokensep_core.errors import ConfigError
from tokensep_core.interfaces import Codec, ConditionEncoder, TokenLM
from tokensep_core.registry import ComponentRegistry


class PipelineConfig(BaseModel):
    """Which codec, encoder and LM make up a generative separator, with their params."""

    model_config = ConfigDict(extra="forbid")

    codec: ComponentSpec = Field(default_factory=lambda: ComponentSpec(name="debug"))
    encoder: ComponentSpec = Field(default_factory=lambda: ComponentSpec(name="debug"))
    lm: ComponentSpec = Field(default_factory=lambda: ComponentSpec(name="debug"))
    stems: tuple[str, ...] = STEMS
    seed: int = 0


@dataclass
class Pipeline:
    """Built components of a :class:`PipelineConfig`."""

    config: PipelineConfig
    codec: Codec
    encoder: ConditionEncoder
    lm: TokenLM


def build_pipeline(registry: ComponentRegistry, config: PipelineConfig, source: str = "") -> Pipeline:
    """Build codec, encoder and LM; refuse combinations whose shapes cannot meet."""
    codec = registry.build("codec", config.codec, source)
    encoder = registry.build("encoder", config.encoder, source)
    lm = registry.build("lm", config.lm, source)
    where = f"{source}: " if source else ""
    if encoder.output_dim != lm.dim:
        raise ConfigError(f"{where}encoder {config.encoder.name!r} output_dim {encoder.output_dim} != lm {config.lm.name!r} dim {lm.dim}")
    if (lm.num_codebooks, lm.codebook_size) != (codec.num_codebooks, codec.codebook_size):
        raise ConfigError(
            f"{where}lm {config.lm.name!r} expects {lm.num_codebooks} codebooks of {lm.codebook_size}, "
            f"codec {config.codec.name!r} has {codec.num_codebooks} of {codec.codebook_size}"
        )
    return Pipeline(config, codec, encoder, lm)
