"""Chunked inference with bounded memory: overlapping segments, batched, overlap-added back.

A long signal ``[C, T]`` is cut into segments of ``segment`` samples whose starts are
``segment - overlap`` apart; segments are produced lazily and handed to a batch function
``batch_size`` at a time, so memory holds one batch of segments plus the output, whatever ``T``.
Neighbouring segments are blended with complementary linear ramps over their overlap (the first
segment has no fade-in and the last no fade-out), then divided by the summed weights, so an
identity function gives back the input.
"""

from __future__ import annotations

import math
from typing import Callable, Iterator

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


def chunked_apply(
    fn: BatchFn,
    wav: Tensor,
    segment: int,
    overlap: float = 0.25,
    batch_size: int = 1,
    progress: bool = False,
) -> Tensor:
    """Apply ``fn`` to ``wav [C, T]`` segment by segment -> ``[*E, C', T]`` on ``wav``'s device.

    ``segment`` is in samples; ``overlap`` a fraction in ``[0, 1)`` of it. Every segment is
    zero-padded to ``segment`` samples, so ``fn`` always sees the same length.
    """
    if segment < 1:
        raise ConfigError(f"chunking: segment must be at least 1 sample, got {segment}")
    if not 0.0 <= overlap < 1.0:
        raise ConfigError(f"chunking: overlap must be in [0, 1), got {overlap}")
    if batch_size < 1:
        raise ConfigError(f"chunking: batch_size must be at least 1, got {batch_size}")
    length = wav.shape[-1]
    overlap_samples = min(round(overlap * segment), segment - 1)
    hop = segment - overlap_samples
    starts = segment_starts(length, segment, hop)
    output: Tensor | None = None
    weight_sum = torch.zeros(length, device=wav.device)
    batches = range(0, len(starts), batch_size)
    for first in tqdm(batches, desc="segments", unit="batch", disable=not progress, leave=False):
        batch_starts = starts[first : first + batch_size]
        batch = torch.stack(list(_segments(wav, batch_starts, segment)))
        result = fn(batch)
        if result.shape[0] != len(batch_starts) or result.shape[-1] != segment:
            raise ValueError(f"chunked_apply: fn returned shape {list(result.shape)} for segments {list(batch.shape)}")
        if output is None:
            output = torch.zeros(*result.shape[1:-1], length, dtype=result.dtype, device=wav.device)
        for start, seg_out in zip(batch_starts, result.to(wav.device)):
            valid = min(segment, length - start)
            window = crossfade_window(valid, overlap_samples, fade_in=start > 0, fade_out=start + segment < length, device=wav.device)
            output[..., start : start + valid] += seg_out[..., :valid] * window
            weight_sum[start : start + valid] += window
    assert output is not None  # there is always at least one segment
    return output.div_(weight_sum)  # in place: the output is the only song-sized buffer


def _segments(wav: Tensor, starts: list[int], segment: int) -> Iterator[Tensor]:
    """Each segment ``[C, segment]``, zero-padded past the end of ``wav``."""
    for start in starts:
        piece = wav[..., start : start + segment]
        yield F.pad(piece, (0, segment - piece.shape[-1]))
