"""Iterative parallel decoding of stem codes for a :class:`MaskedTokenLM` (MaskGIT / SoundStorm).

Every code starts masked. Codebook levels are filled coarse to fine, each in a fixed number of
passes (``passes[k]``; the last entry repeats for finer levels), so the number of LM forwards is
``sum(passes)`` whatever the chunk length. In one pass of level k the LM sees all stems' codes
(coarser levels filled, level k partly, finer levels masked), a code is drawn at every still
masked position of level k, and the most confident draws are kept: after pass i of n,
``floor(T · cos(π/2 · i/n))`` positions stay masked (the cosine schedule; none after the last
pass). Kept codes are never re-masked. Classifier-free guidance doubles the batch with
:func:`~tokensep_core.lm.ar_objective.null_condition` prefixes, as autoregressive generation does;
an LM with frame conditioning reads them as frames (tokensep_core.lm.masked_objective.masked_condition).
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import torch
from torch import Tensor
from tqdm.auto import tqdm

from tokensep_core.errors import ConfigError
from tokensep_core.interfaces import MaskedTokenLM
from tokensep_core.lm.ar_generation import make_generator
from tokensep_core.lm.ar_objective import null_condition
from tokensep_core.lm.masked_objective import masked_condition
from tokensep_core.lm.sampling import SamplingConfig, guided_scores, sample_ids


def cosine_masked(step: float, total: float, length: int) -> int:
    """Positions of ``length`` still masked after ``step`` of ``total`` (cosine schedule:
    ``length`` at 0, none at ``total``)."""
    return math.floor(length * math.cos(math.pi / 2 * step / total))


def level_passes(passes: Sequence[int], num_codebooks: int) -> list[int]:
    """Passes per codebook level ``[K]``: ``passes`` with its last entry repeated."""
    if not passes or min(passes) < 1:
        raise ConfigError(f"passes must be a non-empty list of counts >= 1, got {list(passes)}")
    return [passes[min(k, len(passes) - 1)] for k in range(num_codebooks)]


@torch.no_grad()
def generate_parallel(
    lm: MaskedTokenLM,
    prefix: Tensor,
    num_frames: int,
    prefix_mask: Tensor | None = None,
    sampling: SamplingConfig | None = None,
    stems: Sequence[str] | None = None,
    seed: int | None = None,
    passes: Sequence[int] | None = None,
    progress: bool = False,
) -> dict[str, Tensor]:
    """prefix ``[B, P, D]`` (and mask ``[B, P]``) -> ``{stem: codes [B, K, num_frames]}`` for
    ``stems`` (default: all the LM's), in ``sum(passes)`` LM forwards (default: ``lm.passes``)."""
    sampling = sampling or SamplingConfig()
    stems = tuple(stems) if stems is not None else lm.stems
    schedule = level_passes(lm.passes if passes is None else passes, lm.num_codebooks)
    batch = prefix.shape[0]
    tokens = torch.full((batch, len(stems), lm.num_codebooks, num_frames), lm.mask_id, dtype=torch.long, device=prefix.device)
    guided = sampling.cfg_scale != 1.0
    if guided:
        prefix = torch.cat([prefix, null_condition(prefix)])
        prefix_mask = torch.cat([prefix_mask, prefix_mask]) if prefix_mask is not None else None
    condition = masked_condition(lm, prefix, prefix_mask, num_frames)
    generator = make_generator(seed, prefix.device)
    was_training = lm.training
    lm.eval()
    try:
        bar = tqdm(total=sum(schedule), desc="generating", unit="pass", disable=not progress, leave=False)
        for level, count in enumerate(schedule):
            for step in range(1, count + 1):
                logits = lm(torch.cat([tokens, tokens]) if guided else tokens, stems=stems, codebook=level, **condition)
                scores = guided_scores(logits[:, :, 0], sampling.cfg_scale if guided else None)  # [B, N, T, V]
                _unmask_step(tokens[:, :, level], scores, lm.mask_id, cosine_masked(step, count, num_frames), sampling, generator)
                bar.update()
        bar.close()
    finally:
        lm.train(was_training)
    return {stem: tokens[:, n] for n, stem in enumerate(stems)}


def _unmask_step(
    level_codes: Tensor, scores: Tensor, mask_id: int, keep_masked: int, sampling: SamplingConfig, generator: torch.Generator | None
) -> None:
    """One pass on one level, in place: level_codes ``[B, N, T]``, scores ``[B, N, T, V]``.
    Draws a code at every masked position and keeps the most confident draws, so that
    ``keep_masked`` positions (but at least one fewer than before, while any are left) stay masked."""
    masked = level_codes == mask_id
    if not masked.any():
        return
    candidates = scores[masked]
    chosen = sample_ids(candidates, sampling, generator)
    confidence = candidates.softmax(dim=-1).gather(-1, chosen[:, None]).squeeze(-1)
    ranking = torch.full(masked.shape, float("-inf"), device=scores.device)
    ranking[masked] = confidence
    drawn = level_codes.clone()
    drawn[masked] = chosen
    still = int(masked[0, 0].sum())  # every row has filled the same number of positions
    to_fill = still - max(0, min(keep_masked, still - 1))
    rank = torch.empty_like(level_codes)
    order = ranking.argsort(dim=-1, descending=True, stable=True)
    rank.scatter_(-1, order, torch.arange(level_codes.shape[-1], device=level_codes.device).expand_as(order))
    fill = masked & (rank < to_fill)
    level_codes.copy_(torch.where(fill, drawn, level_codes))
