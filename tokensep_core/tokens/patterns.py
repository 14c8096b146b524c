"""Codebook patterns: how K codebooks × T' frames become K' LM streams of S steps.

- ``parallel``: every codebook of a frame at the same step (K' = K, S = T').
- ``delay`` (MusicGen): codebook k is delayed by k steps (K' = K, S = T' + K - 1); the steps
  where a delayed codebook has no code hold the pad id.
- ``flatten``: the K codes of each frame one after another in a single stream (K' = 1,
  S = T' K). The LM sees one stream over a shared vocabulary with one offset per codebook:
  code c of codebook k is id ``k * codebook_size + c``, so ``code_vocab = K * codebook_size``
  and generation restricts each step to its codebook's id range.
"""

from __future__ import annotations

import torch
from torch import Tensor

from tokensep_core.config import ComponentConfig
from tokensep_core.interfaces import CodebookPattern, StepPlan


class PatternConfig(ComponentConfig):
    """Patterns have no parameters."""


def _full_plan(num_streams: int, num_steps: int, codebook: Tensor, high: int, frame: Tensor) -> StepPlan:
    low = torch.zeros(num_streams, num_steps, dtype=torch.long)
    return StepPlan(codebook, low, torch.where(codebook >= 0, high, 0), torch.where(codebook >= 0, frame, -1))


class ParallelPattern(CodebookPattern):
    """All K codebooks of frame t at step t."""

    Config = PatternConfig

    def __init__(self, config: PatternConfig | None = None) -> None:
        self.config = config or PatternConfig()

    def num_streams(self, num_codebooks: int) -> int:
        return num_codebooks

    def code_vocab(self, num_codebooks: int, codebook_size: int) -> int:
        return codebook_size

    def num_steps(self, num_frames: int, num_codebooks: int) -> int:
        return num_frames

    def build(self, codes: Tensor, codebook_size: int, pad_id: int) -> Tensor:
        """codes [B, K, T'] -> steps [B, K, T'] (a copy)."""
        return codes.clone()

    def revert(self, steps: Tensor, num_codebooks: int, codebook_size: int) -> Tensor:
        """steps [B, K, T'] -> codes [B, K, T']."""
        return steps.clone()

    def plan(self, num_frames: int, num_codebooks: int, codebook_size: int) -> StepPlan:
        codebook = torch.arange(num_codebooks).unsqueeze(1).expand(num_codebooks, num_frames).clone()
        frame = torch.arange(num_frames).expand(num_codebooks, num_frames)
        return _full_plan(num_codebooks, num_frames, codebook, codebook_size, frame)


class DelayPattern(CodebookPattern):
    """Codebook k delayed by k steps (MusicGen's delay pattern)."""

    Config = PatternConfig

    def __init__(self, config: PatternConfig | None = None) -> None:
        self.config = config or PatternConfig()

    def num_streams(self, num_codebooks: int) -> int:
        return num_codebooks

    def code_vocab(self, num_codebooks: int, codebook_size: int) -> int:
        return codebook_size

    def num_steps(self, num_frames: int, num_codebooks: int) -> int:
        return num_frames + num_codebooks - 1

    def build(self, codes: Tensor, codebook_size: int, pad_id: int) -> Tensor:
        """codes [B, K, T'] -> steps [B, K, T' + K - 1]; steps[:, k, k : k + T'] = codes[:, k]."""
        batch, num_codebooks, num_frames = codes.shape
        steps = codes.new_full((batch, num_codebooks, self.num_steps(num_frames, num_codebooks)), pad_id)
        for k in range(num_codebooks):
            steps[:, k, k : k + num_frames] = codes[:, k]
        return steps

    def revert(self, steps: Tensor, num_codebooks: int, codebook_size: int) -> Tensor:
        """steps [B, K, S] -> codes [B, K, S - K + 1]."""
        num_frames = steps.shape[-1] - num_codebooks + 1
        return torch.stack([steps[:, k, k : k + num_frames] for k in range(num_codebooks)], dim=1)

    def plan(self, num_frames: int, num_codebooks: int, codebook_size: int) -> StepPlan:
        num_steps = self.num_steps(num_frames, num_codebooks)
        frame = torch.arange(num_steps).unsqueeze(0) - torch.arange(num_codebooks).unsqueeze(1)
        due = (frame >= 0) & (frame < num_frames)
        codebook = torch.where(due, torch.arange(num_codebooks).unsqueeze(1), -1)
        return _full_plan(num_codebooks, num_steps, codebook, codebook_size, frame)


class FlattenPattern(CodebookPattern):
    """One stream: frame 0's K codes, then frame 1's, … with per-codebook id offsets."""

    Config = PatternConfig

    def __init__(self, config: PatternConfig | None = None) -> None:
        self.config = config or PatternConfig()

    def num_streams(self, num_codebooks: int) -> int:
        return 1

    def code_vocab(self, num_codebooks: int, codebook_size: int) -> int:
        return num_codebooks * codebook_size

    def num_steps(self, num_frames: int, num_codebooks: int) -> int:
        return num_frames * num_codebooks

    def build(self, codes: Tensor, codebook_size: int, pad_id: int) -> Tensor:
        """codes [B, K, T'] -> steps [B, 1, T' K] holding ``k * codebook_size + code``."""
        batch, num_codebooks, num_frames = codes.shape
        ids = codes + _offsets(num_codebooks, codebook_size, codes.device)
        return ids.transpose(1, 2).reshape(batch, 1, num_frames * num_codebooks)

    def revert(self, steps: Tensor, num_codebooks: int, codebook_size: int) -> Tensor:
        """steps [B, 1, T' K] -> codes [B, K, T'] (offsets removed)."""
        batch, _, num_steps = steps.shape
        ids = steps.reshape(batch, num_steps // num_codebooks, num_codebooks).transpose(1, 2)
        return ids - _offsets(num_codebooks, codebook_size, steps.device)

    def plan(self, num_frames: int, num_codebooks: int, codebook_size: int) -> StepPlan:
        codebook = torch.arange(num_codebooks).repeat(num_frames).unsqueeze(0)
        low = codebook * codebook_size
        frame = torch.arange(num_frames).repeat_interleave(num_codebooks).unsqueeze(0)
        return StepPlan(codebook, low, low + codebook_size, frame)


def _offsets(num_codebooks: int, codebook_size: int, device: torch.device) -> Tensor:
    """[1, K, 1] id offset of each codebook in the flattened vocabulary."""
    return (torch.arange(num_codebooks, device=device) * codebook_size).view(1, num_codebooks, 1)
