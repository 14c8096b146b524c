"""The generative separator's components chosen by config and built from the registry.

``build_pipeline`` derives what one component's shape dictates for another, unless the config
sets it explicitly: the LM's ``num_codebooks``/``codebook_size``/``num_special_tokens`` follow
from the codec, pattern and track order; the encoder's ``output_dim`` from the LM's ``dim``.
A masked LM (:class:`MaskedTokenLM`) reads the codec's codes directly: it takes the codec's
``num_codebooks``/``codebook_size`` and the config's ``stems``, and the pattern and track order
are not used (``Pipeline.token_layout`` is None).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tokensep_core import STEMS
from tokensep_core.config import ComponentSpec
from tokensep_core.errors import ConfigError
from tokensep_core.interfaces import Codec, ConditionEncoder, MaskedTokenLM, TokenLM
from tokensep_core.registry import ComponentRegistry
from tokensep_core.tokens.layout import TokenLayout


class PipelineConfig(BaseModel):
    """Which codec, encoder, LM, pattern and track order make up a generative separator."""

    model_config = ConfigDict(extra="forbid")

    codec: ComponentSpec = Field(default_factory=lambda: ComponentSpec(name="debug"))
    codec_checkpoint: Path | None = Field(None, description="trained codec: a checkpoint directory or run directory")
    encoder: ComponentSpec = Field(default_factory=lambda: ComponentSpec(name="debug"))
    lm: ComponentSpec = Field(default_factory=lambda: ComponentSpec(name="debug"))
    pattern: ComponentSpec = Field(default_factory=lambda: ComponentSpec(name="delay"))
    track_order: ComponentSpec = Field(default_factory=lambda: ComponentSpec(name="sequential"))
    stems: tuple[str, ...] = STEMS
    seed: int = 0

    @field_validator("stems")
    @classmethod
    def _distinct_stems(cls, stems: tuple[str, ...]) -> tuple[str, ...]:
        if not stems or len(set(stems)) != len(stems):
            raise ValueError("stems must be a non-empty list of distinct names")
        return stems


@dataclass
class Pipeline:
    """Built components of a :class:`PipelineConfig`."""

    config: PipelineConfig
    codec: Codec
    encoder: ConditionEncoder
    lm: TokenLM | MaskedTokenLM
    token_layout: TokenLayout | None
    """How codes become AR sequences; None for a masked LM (no pattern, no track order)."""

    def modules(self) -> dict[str, Any]:
        """The neural modules whose weights make up a separator checkpoint."""
        return {"codec": self.codec, "encoder": self.encoder, "lm": self.lm}


def build_pipeline(registry: ComponentRegistry, config: PipelineConfig, source: str = "") -> Pipeline:
    """Build every component, derive the shapes they share, and refuse combinations that cannot meet."""
    codec = registry.build("codec", config.codec, source=source)
    if config.codec_checkpoint is not None:
        from tokensep_core.training.checkpoint import load_codec_checkpoint

        load_codec_checkpoint(codec, config.codec_checkpoint)
    codec.requires_grad_(False).eval()
    if _is_masked(registry, config.lm.name):
        return _masked_pipeline(registry, config, codec, source)
    pattern = registry.build("pattern", config.pattern, source=source)
    order_params = (
        {"stems": list(config.stems)} if "stems" in registry.get("track_order", config.track_order.name).config_cls.model_fields else {}
    )
    track_order = registry.build("track_order", _with_defaults(config.track_order, order_params), source=source)
    layout = TokenLayout(pattern, track_order, codec.num_codebooks, codec.codebook_size)
    lm_spec = _with_defaults(
        config.lm,
        _known_fields(
            registry,
            "lm",
            config.lm.name,
            {
                "num_codebooks": layout.lm_num_codebooks,
                "codebook_size": layout.code_vocab,
                "num_special_tokens": layout.special.count,
            },
        ),
    )
    lm = registry.build("lm", lm_spec, source=source)
    encoder = _build_encoder(registry, config, lm, source)
    try:
        layout.check_lm(lm)
    except ConfigError as err:
        raise ConfigError(f"{_where(source)}{err}") from None
    return Pipeline(config, codec, encoder, lm, layout)


def _is_masked(registry: ComponentRegistry, lm_name: str) -> bool:
    factory = registry.get("lm", lm_name).factory
    return isinstance(factory, type) and issubclass(factory, MaskedTokenLM)


def _masked_pipeline(registry: ComponentRegistry, config: PipelineConfig, codec: Codec, source: str) -> Pipeline:
    """A pipeline around a masked LM: shapes from the codec and stems, no token layout."""
    defaults = {"num_codebooks": codec.num_codebooks, "codebook_size": codec.codebook_size, "stems": list(config.stems)}
    lm = registry.build("lm", _with_defaults(config.lm, _known_fields(registry, "lm", config.lm.name, defaults)), source=source)
    encoder = _build_encoder(registry, config, lm, source)
    where = _where(source)
    if (lm.num_codebooks, lm.codebook_size) != (codec.num_codebooks, codec.codebook_size):
        raise ConfigError(
            f"{where}lm {config.lm.name!r} has {lm.num_codebooks} codebooks of {lm.codebook_size} codes; "
            f"codec {config.codec.name!r} has {codec.num_codebooks} of {codec.codebook_size}"
        )
    missing = [s for s in config.stems if s not in lm.stems]
    if missing:
        raise ConfigError(f"{where}lm {config.lm.name!r} cannot generate stems {missing} (it knows {', '.join(lm.stems)})")
    return Pipeline(config, codec, encoder, lm, None)


def _build_encoder(registry: ComponentRegistry, config: PipelineConfig, lm: TokenLM | MaskedTokenLM, source: str) -> ConditionEncoder:
    """The encoder, its ``output_dim`` following the LM's ``dim`` unless set."""
    encoder_spec = _with_defaults(config.encoder, _known_fields(registry, "encoder", config.encoder.name, {"output_dim": lm.dim}))
    encoder = registry.build("encoder", encoder_spec, source=source)
    if encoder.output_dim != lm.dim:
        raise ConfigError(
            f"{_where(source)}encoder {config.encoder.name!r} output_dim {encoder.output_dim} != lm {config.lm.name!r} dim {lm.dim}"
        )
    return encoder


def _where(source: str) -> str:
    return f"{source}: " if source else ""


def _known_fields(registry: ComponentRegistry, kind: str, name: str, values: dict[str, Any]) -> dict[str, Any]:
    fields = registry.get(kind, name).config_cls.model_fields
    return {key: value for key, value in values.items() if key in fields}


def _with_defaults(spec: ComponentSpec, defaults: dict[str, Any]) -> ComponentSpec:
    """``spec`` with ``defaults`` filled in where its params do not set them."""
    return ComponentSpec(name=spec.name, params={**defaults, **spec.params})
