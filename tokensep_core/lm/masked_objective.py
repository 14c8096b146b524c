"""Masked-token prediction for a :class:`MaskedTokenLM`: the training side of
tokensep_core.lm.masked_generation, built to match what decoding shows the LM.

Per item and stem (SoundStorm's recipe): a codebook level k is drawn uniformly; coarser levels
stay visible, finer levels are all masked, and at level k a share ``cos(π/2 · u)``, ``u ~ U(0, 1)``
of the frames (at least one) is masked, as after some pass of the cosine schedule. Only the
masked positions of level k carry loss, weighted per codebook and per stem like the
autoregressive loss (tokensep_core.lm.ar_objective.sequence_loss). An LM with frame conditioning
(tokensep_core.lm.conditioning) gets the condition of frame t added at frame t of every stem.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import torch
from torch import Tensor

from tokensep_core.errors import ConfigError
from tokensep_core.interfaces import MaskedTokenLM
from tokensep_core.lm.ar_objective import sequence_loss
from tokensep_core.lm.conditioning import align_frames, reads_frames, reads_prefix


def mask_codes(codes: Tensor, mask_id: int, generator: torch.Generator | None = None) -> tuple[Tensor, Tensor]:
    """codes ``[B, N, K, T]`` -> (inputs with ``mask_id`` at hidden positions, loss positions
    ``[B, N, K, T]`` bool: the masked frames of each row's drawn level)."""
    batch, stems, levels, frames = codes.shape
    device = codes.device
    level = torch.randint(0, levels, (batch, stems), generator=generator, device=device)
    share = torch.cos(math.pi / 2 * torch.rand(batch, stems, generator=generator, device=device))
    count = (share * frames).ceil().clamp(1, frames).long()
    # the `count` frames with the lowest random scores are masked
    rank = torch.rand(batch, stems, frames, generator=generator, device=device).argsort(-1).argsort(-1)
    hidden_frames = rank < count[..., None]  # [B, N, T]
    k = torch.arange(levels, device=device)[None, None, :, None]
    at_level = k == level[..., None, None]  # [B, N, K, 1]
    targets = at_level & hidden_frames[:, :, None]
    hidden = targets | (k > level[..., None, None])
    return torch.where(hidden, mask_id, codes), targets


def masked_loss(
    lm: MaskedTokenLM,
    stem_codes: Mapping[str, Tensor],
    prefix: Tensor | None,
    prefix_mask: Tensor | None = None,
    codebook_weights: Mapping[int, float] | None = None,
    stem_weights: Mapping[str, float] | None = None,
    label_smoothing: float = 0.0,
    generator: torch.Generator | None = None,
) -> Tensor:
    """``{stem: codes [B, K, T]}`` and prefix ``[B, P, D]`` -> scalar weighted cross-entropy of
    one masked forward of ``lm`` (missing weights are 1, as in ``teacher_forcing``)."""
    codebook_weights = dict(codebook_weights or {})
    stem_weights = dict(stem_weights or {})
    stems = tuple(stem_codes)
    bad = [k for k in codebook_weights if not 0 <= k < lm.num_codebooks]
    if bad:
        raise ConfigError(f"codebook_weights: codebooks {bad} out of range [0, {lm.num_codebooks})")
    bad_stems = [s for s in stem_weights if s not in lm.stems]
    if bad_stems:
        raise ConfigError(f"stem_weights: unknown stems {bad_stems}")
    codes = torch.stack([stem_codes[s] for s in stems], dim=1)  # [B, N, K, T]
    inputs, targets = mask_codes(codes, lm.mask_id, generator)
    device = codes.device
    per_codebook = torch.tensor([codebook_weights.get(k, 1.0) for k in range(lm.num_codebooks)], device=device)
    per_stem = torch.tensor([stem_weights.get(s, 1.0) for s in stems], device=device)
    weights = targets * per_codebook[None, None, :, None] * per_stem[None, :, None, None]
    logits = lm(inputs, stems=stems, **masked_condition(lm, prefix, prefix_mask, codes.shape[-1]))
    return sequence_loss(logits.flatten(0, 1), codes.flatten(0, 1), weights.flatten(0, 1), label_smoothing)


def masked_condition(lm: MaskedTokenLM, prefix: Tensor | None, prefix_mask: Tensor | None, num_frames: int) -> dict[str, Tensor | None]:
    """The condition keyword arguments of a masked LM's forward, as its ``conditioning`` says:
    prefix ``[B, P, D]`` and mask ``[B, P]``, and with frame conditioning ``frame_cond``
    ``[B, num_frames, D]`` (the prefix resampled to the codec's frames)."""
    if prefix is None or not reads_frames(lm):
        return {"prefix": prefix, "prefix_mask": prefix_mask}
    kept = {"prefix": prefix, "prefix_mask": prefix_mask} if reads_prefix(lm) else {"prefix": None, "prefix_mask": None}
    return {**kept, "frame_cond": align_frames(prefix, prefix_mask, num_frames)}
