"""The generative separator's components chosen by config and built from the registry.

``build_pipeline`` derives what one component's shape dictates for another, unless the config
sets it explicitly. The LM's family (tokensep_core.lm.family) says what the LM takes: an
autoregressive LM's ``num_codebooks``/``codebook_size``/``num_special_tokens`` follow from the
codec, pattern and track order; a masked LM reads the codec's codes directly (the codec's
``num_codebooks``/``codebook_size`` and the config's ``stems``; no pattern or track order, so
``Pipeline.token_layout`` is None). The encoder's ``output_dim`` follows the LM's ``dim``.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from tokensep_core import STEMS
from tokensep_core.config import ComponentSpec
from tokensep_core.errors import ConfigError
from tokensep_core.interfaces import Codec, ConditionEncoder, LanguageModel
from tokensep_core.lm.family import family_of
from tokensep_core.registry import ComponentRegistry
from tokensep_core.tokens.layout import TokenLayout


class PipelineConfig(BaseModel):
    """Which codec, encoder, LM, pattern and track order make up a generative separator."""

    model_config = ConfigDict(extra="forbid")

    codec: ComponentSpec
    codec_checkpoint: Path | None = Field(None, description="trained codec: a checkpoint directory or run directory")
    encoder: ComponentSpec
    lm: ComponentSpec
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
    lm: LanguageModel
    token_layout: TokenLayout | None
    """How codes become AR sequences; None for an LM family without one (masked: no pattern, no track order)."""
    labels: dict[str, str]
    """``{"codec" | "encoder" | "lm": "codec 'x' (provider p 1.0)"}``: how messages name them."""

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
    family = family_of(registry.get("lm", config.lm.name))
    layout = _build_layout(registry, config, codec, source) if family.uses_token_layout else None
    defaults = family.lm_defaults(codec, layout, config)
    lm = registry.build("lm", _with_defaults(config.lm, _known_fields(registry, "lm", config.lm.name, defaults)), source=source)
    encoder = _build_encoder(registry, config, lm, source)
    try:
        family.check_pipeline(lm, codec, layout, config)
    except ConfigError as err:
        raise ConfigError(f"{_where(source)}{err}") from None
    labels = {kind: component_label(registry, kind, getattr(config, kind).name) for kind in ("codec", "encoder", "lm")}
    return Pipeline(config, codec, encoder, lm, layout, labels)


def component_label(registry: ComponentRegistry, kind: str, name: str) -> str:
    """How messages name a registered component: ``codec 'x' (provider my-plugin 0.1)``."""
    return f"{kind} {name!r} (provider {registry.get(kind, name).provider})"


def _build_layout(registry: ComponentRegistry, config: PipelineConfig, codec: Codec, source: str) -> TokenLayout:
    """The pattern and track order of an LM family that lays codes out as token sequences."""
    pattern = registry.build("pattern", config.pattern, source=source)
    order_params = (
        {"stems": list(config.stems)} if "stems" in registry.get("track_order", config.track_order.name).config_cls.model_fields else {}
    )
    track_order = registry.build("track_order", _with_defaults(config.track_order, order_params), source=source)
    return TokenLayout(pattern, track_order, codec.num_codebooks, codec.codebook_size)


def _build_encoder(registry: ComponentRegistry, config: PipelineConfig, lm: LanguageModel, source: str) -> ConditionEncoder:
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
