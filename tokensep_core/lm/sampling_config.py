"""The sampling settings (:class:`SamplingConfig`), apart from the sampling code so that reading
them imports no torch (``tokensep separate --help`` shows their defaults)."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field

DRAW_SETTINGS = ("temperature", "top_k", "top_p", "min_p")
"""The :class:`SamplingConfig` fields only a draw reads: greedy decoding (an argmax) ignores
them, as it ignores the seed; ``cfg_scale`` shapes the scores both read."""


class SamplingConfig(BaseModel):
    """How codes are drawn. Filters apply after the temperature, in the order top-k, top-p,
    min-p; ``cfg_scale`` != 1 turns on classifier-free guidance (1: conditional only)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    greedy: bool = False
    temperature: float = Field(1.0, gt=0)
    top_k: int | None = Field(None, ge=1)
    top_p: float | None = Field(None, gt=0, le=1)
    min_p: float | None = Field(None, gt=0, le=1)
    cfg_scale: float = Field(1.0, ge=0)
