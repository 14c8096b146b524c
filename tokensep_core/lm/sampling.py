"""Choosing the next code from logits: greedy, temperature, top-k, top-p, min-p."""

from __future__ import annotations

import torch
from torch import Tensor

from tokensep_core.lm.sampling_config import SamplingConfig


def _candidates(logits: Tensor, config: SamplingConfig) -> tuple[Tensor, Tensor | None]:
    """logits [N, V] -> (tempered candidate logits [N, C] with the filtered-out ones at -inf,
    their ids [N, C], or None when the candidates are the whole vocabulary in order). With
    top-k the candidates are the k most likely ids (ties at the k-th broken by ``torch.topk``),
    so the later filters and the draw touch k values, not V; the most likely id always survives."""
    logits = logits / config.temperature
    ids = None
    if config.top_k is not None and config.top_k < logits.shape[-1]:
        logits, ids = torch.topk(logits, config.top_k, dim=-1)  # sorted, most likely first
    if config.top_p is not None and config.top_p < 1:
        if ids is None:
            logits, ids = torch.sort(logits, dim=-1, descending=True)
        probs = logits.softmax(dim=-1)
        # drop an id when the more likely ids alone already reach top_p
        logits = logits.masked_fill(probs.cumsum(dim=-1) - probs >= config.top_p, float("-inf"))
    if config.min_p is not None:
        probs = logits.softmax(dim=-1)
        logits = logits.masked_fill(probs < config.min_p * probs.max(dim=-1, keepdim=True).values, float("-inf"))
    return logits, ids


def filter_logits(logits: Tensor, config: SamplingConfig) -> Tensor:
    """logits [N, V] -> tempered logits [N, V] with the filtered-out ids at -inf."""
    candidates, ids = _candidates(logits, config)
    if ids is None:
        return candidates
    return torch.full_like(logits, float("-inf")).scatter(-1, ids, candidates)


def sample_ids(logits: Tensor, config: SamplingConfig, generator: torch.Generator | None = None) -> Tensor:
    """logits [N, V] (disallowed ids at -inf) -> ids [N]. Draws by inverse CDF over the
    candidates: one uniform number per row (``torch.multinomial`` draws V exponentials per
    row, which took 4 ms per decode step of the ``paper`` separator)."""
    if config.greedy:
        return logits.argmax(dim=-1)
    candidates, ids = _candidates(logits.float(), config)
    cdf = candidates.softmax(dim=-1).cumsum(dim=-1)  # [N, C]
    # 1 - U(0, 1) lies in (0, 1]: the draw never lands on a leading zero-probability candidate
    target = (1 - torch.rand(cdf.shape[0], 1, generator=generator, device=cdf.device)) * cdf[:, -1:]
    chosen = torch.searchsorted(cdf, target).clamp_max(cdf.shape[-1] - 1)  # [N, 1]
    return (chosen if ids is None else ids.gather(-1, chosen)).squeeze(-1)


def guided_scores(logits: Tensor, cfg_scale: float | None) -> Tensor:
    """Logits ``[2B, ..., V]`` -> scores ``[B, ..., V]`` (``[B, ..., V]`` unchanged without
    guidance); with classifier-free guidance the batch holds conditional then null rows,
    combined as ``null + scale (cond - null)`` on log-probabilities."""
    if cfg_scale is None:
        return logits.float()
    cond, null = logits.float().log_softmax(dim=-1).chunk(2)
    return null + cfg_scale * (cond - null)
