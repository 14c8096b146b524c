"""Choosing the next code from logits: greedy, temperature, top-k, top-p, min-p."""

from __future__ import annotations

import torch
from pydantic import BaseModel, ConfigDict, Field
from torch import Tensor


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


def filter_logits(logits: Tensor, config: SamplingConfig) -> Tensor:
    """logits [N, V] -> tempered logits with the filtered-out ids at -inf; the most likely id
    always survives."""
    logits = logits / config.temperature
    if config.top_k is not None and config.top_k < logits.shape[-1]:
        kth = torch.topk(logits, config.top_k, dim=-1).values[..., -1:]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if config.top_p is not None and config.top_p < 1:
        sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
        cumulative = sorted_logits.softmax(dim=-1).cumsum(dim=-1)
        # drop an id when the more likely ids alone already reach top_p
        drop_sorted = (cumulative - sorted_logits.softmax(dim=-1)) >= config.top_p
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        logits = logits.masked_fill(drop, float("-inf"))
    if config.min_p is not None:
        probs = logits.softmax(dim=-1)
        floor = config.min_p * probs.max(dim=-1, keepdim=True).values
        logits = logits.masked_fill(probs < floor, float("-inf"))
    return logits


def sample_ids(logits: Tensor, config: SamplingConfig, generator: torch.Generator | None = None) -> Tensor:
    """logits [N, V] (disallowed ids at -inf) -> ids [N]."""
    if config.greedy:
        return logits.argmax(dim=-1)
    probs = filter_logits(logits.float(), config).softmax(dim=-1)
    return torch.multinomial(probs, 1, generator=generator).squeeze(-1)


def guided_scores(logits: Tensor, cfg_scale: float | None) -> Tensor:
    """Logits ``[2B, ..., V]`` -> scores ``[B, ..., V]`` (``[B, ..., V]`` unchanged without
    guidance); with classifier-free guidance the batch holds conditional then null rows,
    combined as ``null + scale (cond - null)`` on log-probabilities."""
    if cfg_scale is None:
        return logits.float()
    cond, null = logits.float().log_softmax(dim=-1).chunk(2)
    return null + cfg_scale * (cond - null)
