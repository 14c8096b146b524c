"""Codebook health: do a codec's codes carry information?

A codebook whose frames all take one id (or almost) carries no information: an LM predicting it
learns nothing about the audio. Health is measured on the id histogram of each codebook:
distinct ids used, dead entries (never used), and perplexity ``exp(entropy)`` (1 when a single id
takes every frame, ``codebook_size`` when all ids are equally frequent).

A codebook is **degenerate** when its perplexity is below :data:`DEGENERATE_PERPLEXITY` = 2: it
carries less than one bit per frame, i.e. fewer than two effectively used ids, whatever the
codebook size. (A size-relative threshold such as 1 % of 1024 would also flag small but working
codebooks of short trainings; below 2 there is nothing for an LM to read.)

Used by codec evaluation, codec training's logs and the separator training's refusal of
degenerate codes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import torch
from torch import Tensor

DEGENERATE_PERPLEXITY = 2.0
"""A codebook whose perplexity is below this carries less than one bit per frame."""


@dataclass(frozen=True)
class CodebookHealth:
    """One codebook's id statistics."""

    codebook: int
    used: int
    """Distinct ids that occur."""
    dead: int
    """``codebook_size - used``."""
    perplexity: float
    """``exp(entropy)`` of the id histogram, in ``[1, codebook_size]``."""
    degenerate: bool
    """``perplexity < threshold``."""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def code_histogram(codes: Tensor, codebook_size: int) -> Tensor:
    """codes ``[B, K, T']`` -> counts ``[K, codebook_size]`` (int64, on the codes' device)."""
    if codes.dim() != 3:
        raise ValueError(f"codes must be [B, K, T'], got shape {list(codes.shape)}")
    flat = codes.transpose(0, 1).reshape(codes.shape[1], -1).long()
    hist = torch.zeros(codes.shape[1], codebook_size, dtype=torch.int64, device=codes.device)
    return hist.scatter_add_(1, flat, torch.ones_like(flat))


def codebook_usage(hist: Tensor) -> Tensor:
    """counts ``[K, V]`` -> ``[K]`` fraction of the V ids used at least once."""
    return (hist > 0).double().mean(dim=1)


def codebook_perplexity(hist: Tensor) -> Tensor:
    """counts ``[K, V]`` -> ``[K]`` ``exp(entropy)`` of each codebook's id distribution (float64;
    1 for an empty histogram)."""
    p = hist.double() / hist.sum(dim=1, keepdim=True).clamp(min=1)
    entropy = -(p * torch.log(p.clamp(min=1e-300))).sum(dim=1)
    return entropy.exp()


def histogram_health(hist: Tensor, threshold: float = DEGENERATE_PERPLEXITY) -> list[CodebookHealth]:
    """counts ``[K, V]`` -> the health of each of the K codebooks."""
    used = (hist > 0).sum(dim=1).tolist()
    perplexity = codebook_perplexity(hist).tolist()
    size = hist.shape[1]
    return [CodebookHealth(k, int(u), size - int(u), float(p), p < threshold) for k, (u, p) in enumerate(zip(used, perplexity))]


def codebook_health(codes: Tensor, codebook_size: int, threshold: float = DEGENERATE_PERPLEXITY) -> list[CodebookHealth]:
    """codes ``[B, K, T']`` -> the health of each of the K codebooks over every item and frame."""
    return histogram_health(code_histogram(codes, codebook_size).cpu(), threshold)


def degenerate_codebooks(health: Sequence[CodebookHealth]) -> list[int]:
    """Indices of the degenerate codebooks."""
    return [h.codebook for h in health if h.degenerate]


def describe_degenerate(health: Sequence[CodebookHealth]) -> str:
    """One line naming each degenerate codebook with its perplexity and ids used, e.g.
    ``codebooks 0 (perplexity 1.00, 1 id used), 1 (...)``; '' when none is."""
    bad = [h for h in health if h.degenerate]
    if not bad:
        return ""
    parts = [f"{h.codebook} (perplexity {h.perplexity:.2f}, {h.used} id{'s' if h.used != 1 else ''} used)" for h in bad]
    return f"codebook{'s' if len(bad) > 1 else ''} {', '.join(parts)}"


def perplexity_metrics(codes: Tensor, codebook_size: int) -> dict[str, Tensor]:
    """codes ``[B, K, T']`` -> ``{"perplexity_<k>": scalar}`` (float32, on the codes' device, no
    host sync), for training logs."""
    values = codebook_perplexity(code_histogram(codes.detach(), codebook_size)).float()
    return {f"perplexity_{k}": values[k] for k in range(values.shape[0])}
