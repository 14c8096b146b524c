"""Teacher forcing for the token LM: inputs, targets and loss weights from stem codes, and the
weighted cross-entropy. The separator trainer and the tests share it, and generation follows
the same layout (tokensep_core.tokens.layout), so training and sampling cannot drift apart.

The LM reads ``sequences[..., :-1]`` after the prefix; its output at position s predicts
``sequences[..., s + 1]``. Only generated positions (codes) carry loss: start tokens and the
pattern's padding are forced at generation time, so they get weight 0. With frame conditioning
(tokensep_core.lm.conditioning) the input at position s gets the condition of the frame that
``sequences[..., s + 1]`` holds: the frame it predicts (under causal attention, the condition of
a step's own frame would come one step too late).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import Tensor

from tokensep_core.errors import ConfigError
from tokensep_core.interfaces import TokenLM, TrackLayout
from tokensep_core.lm.conditioning import align_frames, gather_frames, reads_frames, reads_prefix
from tokensep_core.tokens.layout import TokenLayout


@dataclass(frozen=True)
class TeacherForcing:
    """inputs/targets ``[B', K'', S'' - 1]`` int64, weights ``[B', K'', S'' - 1]`` float (0 = no
    loss), the layout (its ``condition_rows`` pick each row's prefix), and for frame
    conditioning the frame each input position is conditioned on, ``frame_index [S'' - 1]``
    (-1: none), out of ``num_frames``."""

    inputs: Tensor
    targets: Tensor
    weights: Tensor
    layout: TrackLayout
    frame_index: Tensor
    num_frames: int


def teacher_forcing(
    token_layout: TokenLayout,
    stem_codes: Mapping[str, Tensor],
    codebook_weights: Mapping[int, float] | None = None,
    stem_weights: Mapping[str, float] | None = None,
) -> TeacherForcing:
    """``{stem: codes [B, K, T']}`` -> :class:`TeacherForcing`.

    ``codebook_weights`` ``{k: w}`` and ``stem_weights`` ``{stem: w}`` scale the loss of each
    codec codebook and stem (missing entries weigh 1); a position's weight is their product.
    """
    codebook_weights = dict(codebook_weights or {})
    stem_weights = dict(stem_weights or {})
    bad = [k for k in codebook_weights if not 0 <= k < token_layout.num_codebooks]
    if bad:
        raise ConfigError(f"codebook_weights: codebooks {bad} out of range [0, {token_layout.num_codebooks})")
    bad_stems = [s for s in stem_weights if s not in token_layout.track_order.stems]
    if bad_stems:
        raise ConfigError(f"stem_weights: unknown stems {bad_stems}")
    sequences, layout = token_layout.encode(stem_codes)
    first = next(iter(stem_codes.values()))
    plan = token_layout.plan(first.shape[-1], list(stem_codes), first.shape[0], sequences.device)
    per_codebook = torch.tensor([codebook_weights.get(k, 1.0) for k in range(token_layout.num_codebooks)] + [0.0], device=sequences.device)
    # codebook -1 (start tokens, padding) indexes the trailing 0
    weights = per_codebook[plan.codebook]
    for seg in layout.segments:
        weights[seg.rows, seg.streams, seg.start : seg.start + seg.length] *= stem_weights.get(seg.stem, 1.0)
    frame_index = token_layout.frame_index(first.shape[-1], layout.stems).to(sequences.device)
    return TeacherForcing(sequences[..., :-1], sequences[..., 1:], weights[..., 1:], layout, frame_index[1:], first.shape[-1])


def sequence_loss(logits: Tensor, targets: Tensor, weights: Tensor, label_smoothing: float = 0.0) -> Tensor:
    """Weighted mean cross-entropy: logits ``[B, K, S, V]``, targets and weights ``[B, K, S]``.
    Targets where the weight is 0 may hold any id (special ids included)."""
    vocab = logits.shape[-1]
    safe_targets = torch.where(weights > 0, targets, 0).clamp(max=vocab - 1)
    loss = F.cross_entropy(logits.float().reshape(-1, vocab), safe_targets.reshape(-1), reduction="none", label_smoothing=label_smoothing)
    weights = weights.reshape(-1).to(loss.dtype)
    return (loss * weights).sum() / weights.sum().clamp(min=1e-8)


def lm_loss(
    lm: TokenLM,
    batch: TeacherForcing,
    prefix: Tensor | None,
    prefix_mask: Tensor | None = None,
    label_smoothing: float = 0.0,
) -> Tensor:
    """One teacher-forced forward of ``lm``: prefix ``[B, P, D]`` (rows repeated as the layout
    needs; read as the LM's ``conditioning`` says) -> scalar loss."""
    rows = batch.layout.condition_rows.to(batch.inputs.device)
    if prefix is not None:
        prefix = prefix[rows]
        prefix_mask = prefix_mask[rows] if prefix_mask is not None else None
    if prefix is not None and reads_frames(lm):
        frame_cond = gather_frames(align_frames(prefix, prefix_mask, batch.num_frames), batch.frame_index)
        kept = (prefix, prefix_mask) if reads_prefix(lm) else (None, None)
        logits, _ = lm(batch.inputs, *kept, frame_cond=frame_cond)
    else:
        logits, _ = lm(batch.inputs, prefix, prefix_mask)
    return sequence_loss(logits, batch.targets, batch.weights, label_smoothing)


def null_condition(prefix: Tensor) -> Tensor:
    """The condition classifier-free guidance contrasts with: an all-zero prefix ``[B, P, D]``."""
    return torch.zeros_like(prefix)


def drop_condition(prefix: Tensor, probability: float, generator: torch.Generator | None = None) -> Tensor:
    """Condition dropout for classifier-free guidance: each item's prefix ``[B, P, D]`` is
    replaced by :func:`null_condition` with ``probability``."""
    if probability <= 0:
        return prefix
    drop = torch.rand(prefix.shape[0], generator=generator, device=prefix.device) < probability
    return torch.where(drop.view(-1, 1, 1), null_condition(prefix), prefix)
