"""KV-cached autoregressive generation of stem codes for any TokenLM, pattern and track order.

Every position of the sequences is planned before the loop (:meth:`TokenLayout.plan`): start
tokens and pattern padding are written, never sampled; a generated position draws only from
its allowed id range, so special ids never appear as codes. A whole batch of chunks (of one or
several songs) is generated together; classifier-free guidance doubles the batch with
:func:`~tokensep_core.lm.ar_objective.null_condition` prefixes. An LM with frame conditioning
(tokensep_core.lm.conditioning) gets, with each step it is fed, the condition of the frame the
next step holds, as in training (tokensep_core.lm.ar_objective).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import Tensor
from tqdm.auto import tqdm

from tokensep_core.errors import ConfigError
from tokensep_core.interfaces import LMCache, TokenLM
from tokensep_core.lm.ar_objective import null_condition
from tokensep_core.lm.conditioning import align_frames, gather_frames, reads_frames, reads_prefix
from tokensep_core.lm.sampling import SamplingConfig, guided_scores, sample_ids
from tokensep_core.tokens.layout import SequencePlan, TokenLayout


def make_generator(seed: int | None, device: torch.device | str) -> torch.Generator | None:
    """A generator on ``device`` seeded with ``seed`` (None: torch's global generator)."""
    if seed is None:
        return None
    return torch.Generator(device=torch.device(device)).manual_seed(seed)


@torch.no_grad()
def generate(
    lm: TokenLM,
    token_layout: TokenLayout,
    prefix: Tensor,
    num_frames: int,
    prefix_mask: Tensor | None = None,
    sampling: SamplingConfig | None = None,
    stems: Sequence[str] | None = None,
    seed: int | None = None,
    progress: bool = False,
) -> dict[str, Tensor]:
    """prefix ``[B, P, D]`` (and mask ``[B, P]``) -> ``{stem: codes [B, K, num_frames]}`` for the
    requested ``stems`` (default: all). Only the stems the track order needs are generated."""
    sampling = sampling or SamplingConfig()
    token_layout.check_lm(lm)
    device = prefix.device
    requested = tuple(stems) if stems is not None else token_layout.track_order.stems
    generated = token_layout.track_order.stems_to_generate(requested)
    plan = token_layout.plan(num_frames, generated, prefix.shape[0], device)
    if (plan.forced[..., 0] < 0).any():
        raise ConfigError("track order must start every sequence with a start token")
    conditions, rows = torch.unique(plan.layout.condition_rows, return_inverse=True)  # rows [B'] index the distinct prefixes
    prefix = prefix[conditions]
    prefix_mask = prefix_mask[conditions] if prefix_mask is not None else None
    guided = sampling.cfg_scale != 1.0
    if guided:
        rows = torch.cat([rows, rows + prefix.shape[0]])
        prefix = torch.cat([prefix, null_condition(prefix)])
        prefix_mask = torch.cat([prefix_mask, prefix_mask]) if prefix_mask is not None else None
    frames = None
    if reads_frames(lm):
        frames = (align_frames(prefix, prefix_mask, num_frames)[rows], token_layout.frame_index(num_frames, generated).to(device))
    if not reads_prefix(lm):
        prefix = prefix_mask = None
    was_training = lm.training
    lm.eval()
    try:
        sequences = _decode(lm, plan, prefix, prefix_mask, rows, frames, sampling, guided, make_generator(seed, device), progress)
    finally:
        lm.train(was_training)
    codes = token_layout.decode(sequences, plan.layout)
    return {stem: codes[stem] for stem in requested}


def _start(
    lm: TokenLM, first: Tensor, prefix: Tensor | None, prefix_mask: Tensor | None, rows: Tensor, cond: dict[str, Tensor]
) -> tuple[Tensor, LMCache]:
    """(logits, cache) after the prefix and the first step ``first [B', K'', 1]``, row i
    conditioned on ``prefix[rows[i]]`` (``prefix [U, P, D]``; None: no prefix) and ``cond``
    (``{"frame_cond": [B', 1, D]}`` or nothing). Rows that share a prefix (the independent order
    generates every stem of a chunk from one) share one pass over it when the LM can select
    cache rows (:meth:`TokenLM.select_cache`): the prefix call is most of the cost of a short
    generation, and with four stems per chunk it ran four times."""
    if prefix is None:
        return lm(first, **cond)
    if rows.numel() > prefix.shape[0] and lm.selects_cache:
        _, shared = lm(first.new_zeros(prefix.shape[0], first.shape[1], 0), prefix, prefix_mask)
        return lm(first, cache=lm.select_cache(shared, rows), **cond)
    return lm(first, prefix[rows], prefix_mask[rows] if prefix_mask is not None else None, **cond)


def _decode(
    lm: TokenLM,
    plan: SequencePlan,
    prefix: Tensor | None,
    prefix_mask: Tensor | None,
    rows: Tensor,
    frames: tuple[Tensor, Tensor] | None,
    sampling: SamplingConfig,
    guided: bool,
    generator: torch.Generator | None,
    progress: bool,
) -> Tensor:
    """Fill the plan's free positions step by step -> sequences [B', K'', S'']. ``frames``:
    (per-row frame conditions ``[B', T', D]``, frame index ``[S'']``) for frame conditioning."""
    sequences = plan.forced.clone()
    length = sequences.shape[-1]

    def feed(step: Tensor) -> Tensor:
        return torch.cat([step, step]) if guided else step

    def cond(t: int) -> dict[str, Tensor]:
        """What the LM reads with the step at position t: the frame of the step it predicts."""
        return {} if frames is None else {"frame_cond": gather_frames(frames[0], frames[1][t + 1 : t + 2])}

    sampled_steps = (plan.forced < 0).flatten(0, 1).any(dim=0).tolist()  # [S''], once: no per-step sync
    logits, cache = _start(lm, feed(sequences[..., :1]), prefix, prefix_mask, rows, cond(0))
    ids = torch.arange(logits.shape[-1], device=logits.device)
    for t in tqdm(range(1, length), desc="generating", unit="step", disable=not progress, leave=False):
        if sampled_steps[t]:
            free = plan.forced[..., t] < 0  # [B', K'']
            scores = guided_scores(logits[:, :, -1], sampling.cfg_scale if guided else None)
            disallowed = (ids < plan.low[..., t, None]) | (ids >= plan.high[..., t, None])  # [B', K'', V]
            chosen = sample_ids(scores.masked_fill(disallowed, float("-inf"))[free], sampling, generator)
            sequences[..., t][free] = chosen
        if t < length - 1:
            logits, cache = lm(feed(sequences[..., t : t + 1]), cache=cache, **cond(t))
    return sequences
