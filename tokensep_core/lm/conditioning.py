"""How an LM reads the mixture: as a prefix (the paper), frame by frame, or both.

An LM's ``conditioning`` attribute (:class:`~tokensep_core.interfaces.LanguageModel`) says which:

- ``prefix``: the encoder's embeddings ``[B, P, D]`` come before the tokens in the sequence.
- ``frame``: mixture and stems are time-aligned, so the embeddings are resampled to the codec's
  frames ``[B, T', D]`` (:func:`align_frames`) and the embedding of frame t is added to the input
  of every step that predicts a code of frame t (SoundStorm sums its time-aligned condition
  this way). No prefix: sequences and KV caches are P steps shorter.
- ``both``: the prefix and the frames.

The null condition (classifier-free guidance, condition dropout) is an all-zero prefix, so its
frames are zero as well.
"""

from __future__ import annotations

from typing import Literal, get_args

import torch.nn.functional as F
from torch import Tensor

from tokensep_core.errors import ConfigError

Conditioning = Literal["prefix", "frame", "both"]
MODES: tuple[str, ...] = get_args(Conditioning)


def _mode(lm: object) -> str:
    mode = getattr(lm, "conditioning", "prefix")
    if mode not in MODES:
        raise ConfigError(f"lm {type(lm).__name__}: conditioning {mode!r} is not one of {', '.join(MODES)}")
    return mode


def reads_prefix(lm: object) -> bool:
    """Whether ``lm`` takes the condition as a prefix."""
    return _mode(lm) in ("prefix", "both")


def reads_frames(lm: object) -> bool:
    """Whether ``lm`` takes the condition frame by frame (``frame_cond``)."""
    return _mode(lm) in ("frame", "both")


def align_frames(prefix: Tensor, prefix_mask: Tensor | None, num_frames: int) -> Tensor:
    """Encoder embeddings ``[B, P, D]`` (mask ``[B, P]``, padded steps zeroed) covering the same
    audio as ``num_frames`` codec frames -> ``[B, num_frames, D]``, linearly interpolated along time."""
    if prefix_mask is not None:
        prefix = prefix * prefix_mask.unsqueeze(-1).to(prefix.dtype)
    if prefix.shape[1] == num_frames:
        return prefix
    resampled = F.interpolate(prefix.transpose(1, 2).float(), size=num_frames, mode="linear", align_corners=False)
    return resampled.transpose(1, 2).to(prefix.dtype)


def gather_frames(frames: Tensor, index: Tensor) -> Tensor:
    """frames ``[B, T', D]``, frame index ``[S]`` (-1: none) -> per-step condition ``[B, S, D]``,
    zero where the index is -1."""
    gathered = frames.index_select(1, index.clamp(min=0).to(frames.device))
    return gathered * (index >= 0).to(frames.device, frames.dtype)[None, :, None]
