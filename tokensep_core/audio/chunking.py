"""Chunked inference with bounded memory: overlapping segments, batched, overlap-added back.

A long signal of ``T`` samples is cut into segments of ``segment`` samples whose starts are
``segment - overlap`` apart; segments are read lazily and handed to a batch function
``batch_size`` at a time, and the output comes back in final blocks as soon as no later segment
can touch them, so memory holds one batch of segments whatever ``T`` (the signal and the output
can stay on disk: see :meth:`tokensep_core.separation.separator.GenerativeSeparator.separate_file`).
Neighbouring segments are blended with complementary linear ramps over their overlap (the first
segment has no fade-in and the last no fade-out), then divided by the summed weights, so an
identity function gives back the input.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Iterator

import torch
import torch.nn.functional as F
from torch import Tensor
from tqdm import tqdm

from tokensep_core.errors import ConfigError

BatchFn = Callable[[Tensor], Tensor]
"""segments ``[B, C, L]`` -> outputs ``[B, *E, C', L]`` (any extra dims E, same length L)."""


def segment_starts(length: int, segment: int, hop: int) -> list[int]:
    """Start sample of every segment covering ``length`` samples (at least one segment)."""
    count = 1 + max(0, math.ceil((length - segment) / hop))
    return [i * hop for i in range(count)]


def crossfade_window(valid: int, overlap: int, fade_in: bool, fade_out: bool, device: torch.device | None = None) -> Tensor:
    """Weights ``[valid]`` for one segment: linear ramps of ``overlap`` samples, strictly positive,
    so that the fade-out of one segment and the fade-in of the next sum to 1."""
    window = torch.ones(valid, device=device)
    if overlap > 0:
        ramp = (torch.arange(overlap, device=device) + 0.5) / overlap
        if fade_in:
            n = min(overlap, valid)
            window[:n] = ramp[:n]
        if fade_out:
            n = min(overlap, valid)
            window[valid - n :] = torch.minimum(window[valid - n :], ramp.flip(0)[overlap - n :])
    return window


ReadFn = Callable[[int, int], Tensor]
"""(start, frames) -> ``[C, n]`` with ``n <= frames`` (fewer past the end of the signal)."""


def overlap_add_stream(
    fn: BatchFn,
    read: ReadFn,
    length: int,
    segment: int,
    overlap: float = 0.25,
    batch_size: int = 1,
    progress: bool = False,
) -> Iterator[Tensor]:
    """Apply ``fn`` segment by segment to a signal of ``length`` samples that ``read`` fetches on
    demand; yield the output ``[*E, C', n]`` in consecutive final blocks covering ``[0, length)``.

    Memory holds one batch of segments and one segment of pending output, whatever ``length``:
    once a batch is done, everything before the next segment's start can no longer change.
    ``segment`` is in samples; ``overlap`` a fraction in ``[0, 1)`` of it. Every segment is
    zero-padded to ``segment`` samples, so ``fn`` always sees the same length.
    """
    if segment < 1:
        raise ConfigError(f"chunking: segment must be at least 1 sample, got {segment}")
    if not 0.0 <= overlap < 1.0:
        raise ConfigError(f"chunking: overlap must be in [0, 1), got {overlap}")
    if batch_size < 1:
        raise ConfigError(f"chunking: batch_size must be at least 1, got {batch_size}")
    overlap_samples = min(round(overlap * segment), segment - 1)
    hop = segment - overlap_samples
    starts = segment_starts(length, segment, hop)
    emitted = 0  # output before this sample has been yielded
    pending: Tensor | None = None  # output accumulated over [emitted, emitted + pending length)
    weights = torch.zeros(0)
    for first in tqdm(range(0, len(starts), batch_size), desc="segments", unit="batch", disable=not progress, leave=False):
        batch_starts = starts[first : first + batch_size]
        batch = torch.stack([_padded(read(start, segment), segment) for start in batch_starts])
        result = fn(batch)
        if result.shape[0] != len(batch_starts) or result.shape[-1] != segment:
            raise ValueError(f"overlap_add_stream: fn returned shape {list(result.shape)} for segments {list(batch.shape)}")
        end = min(length, batch_starts[-1] + segment)
        if pending is None:
            pending = torch.zeros(*result.shape[1:-1], 0, dtype=result.dtype, device=batch.device)
            weights = torch.zeros(0, device=batch.device)
        grow = end - emitted - pending.shape[-1]
        pending = torch.cat([pending, pending.new_zeros(*pending.shape[:-1], grow)], dim=-1)
        weights = torch.cat([weights, weights.new_zeros(grow)])
        for start, seg_out in zip(batch_starts, result.to(batch.device)):
            valid = min(segment, length - start)
            window = crossfade_window(valid, overlap_samples, fade_in=start > 0, fade_out=start + segment < length, device=batch.device)
            offset = start - emitted
            pending[..., offset : offset + valid] += seg_out[..., :valid] * window
            weights[offset : offset + valid] += window
        done = starts[first + batch_size] if first + batch_size < len(starts) else length
        count = done - emitted
        yield pending[..., :count] / weights[:count]
        pending, weights, emitted = pending[..., count:].clone(), weights[count:].clone(), done


def chunked_apply(
    fn: BatchFn,
    wav: Tensor,
    segment: int,
    overlap: float = 0.25,
    batch_size: int = 1,
    progress: bool = False,
) -> Tensor:
    """Apply ``fn`` to an in-memory ``wav [C, T]`` segment by segment -> ``[*E, C', T]`` on
    ``wav``'s device (:func:`overlap_add_stream` over slices of ``wav``)."""

    def read(start: int, frames: int) -> Tensor:
        return wav[..., start : start + frames]

    blocks = overlap_add_stream(fn, read, wav.shape[-1], segment, overlap, batch_size, progress)
    return torch.cat([block.to(wav.device) for block in blocks], dim=-1)


def _padded(piece: Tensor, segment: int) -> Tensor:
    """``[C, n]`` zero-padded at the end to ``[C, segment]``."""
    return F.pad(piece, (0, segment - piece.shape[-1]))
