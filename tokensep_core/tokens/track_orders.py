"""Track orders: how the stems' step sequences share LM sequences.

Each stem's steps ``[B, K', S]`` are preceded by one step holding that stem's start id.

- ``sequential`` (the paper): ``[<s1> steps1 <s2> steps2 …]`` in one sequence per item, so
  later stems attend to earlier ones: ``[B, K', n (1 + S)]``.
- ``independent``: each stem its own sequence ``[<s> steps]``, stems folded into the batch
  (stem-major): ``[n B, K', 1 + S]``; every stem sees only the mixture.
- ``interleaved``: the stems stacked along the stream axis, one start step for all:
  ``[B, n K', 1 + S]``; each step predicts every stem's tokens of that step.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import torch
from pydantic import Field, field_validator
from torch import Tensor

from tokensep_core import STEMS
from tokensep_core.config import ComponentConfig
from tokensep_core.errors import ConfigError
from tokensep_core.interfaces import TrackLayout, TrackOrder, TrackSegment


class TrackOrderConfig(ComponentConfig):
    stems: tuple[str, ...] = Field(STEMS, min_length=1, description="every stem, in generation order")

    @field_validator("stems")
    @classmethod
    def _unique(cls, stems: tuple[str, ...]) -> tuple[str, ...]:
        if len(set(stems)) != len(stems):
            raise ValueError(f"stems repeat a name: {list(stems)}")
        return stems


class _BaseOrder(TrackOrder):
    Config = TrackOrderConfig

    def __init__(self, config: TrackOrderConfig | None = None) -> None:
        self.config = config or TrackOrderConfig()
        self.stems = self.config.stems

    def _ordered(self, stem_steps: Mapping[str, Tensor]) -> list[tuple[str, Tensor]]:
        """The given stems in this order's order; unknown stems and uneven shapes are errors."""
        unknown = [s for s in stem_steps if s not in self.stems]
        if unknown:
            raise ConfigError(f"track order: unknown stems {unknown}; known stems: {', '.join(self.stems)}")
        if not stem_steps:
            raise ConfigError("track order: no stems to combine")
        ordered = [(s, stem_steps[s]) for s in self.stems if s in stem_steps]
        shapes = {tuple(t.shape) for _, t in ordered}
        if len(shapes) != 1:
            raise ValueError(f"every stem's steps must have one shape [B, K', S], got {sorted(shapes)}")
        return ordered

    def _validate_requested(self, requested: Sequence[str]) -> None:
        unknown = [s for s in requested if s not in self.stems]
        if unknown:
            raise ConfigError(f"unknown stems {unknown}; this model knows {', '.join(self.stems)}")
        if not requested:
            raise ConfigError("no stems requested")


def _start_step(steps: Tensor, start_id: int) -> Tensor:
    """steps [B, K', S] -> one step [B, K', 1] holding ``start_id``."""
    return steps.new_full((*steps.shape[:2], 1), start_id)


class SequentialOrder(_BaseOrder):
    """Stems one after another in one sequence, each preceded by its start token."""

    def num_streams(self, streams_per_stem: int) -> int:
        return streams_per_stem

    def stems_to_generate(self, requested: Sequence[str]) -> tuple[str, ...]:
        """Every stem up to the last requested one: later stems depend on the earlier ones."""
        self._validate_requested(requested)
        last = max(self.stems.index(s) for s in requested)
        return self.stems[: last + 1]

    def combine(self, stem_steps: Mapping[str, Tensor], start_ids: Mapping[str, int]) -> tuple[Tensor, TrackLayout]:
        """{stem: [B, K', S]} -> ([B, K', n (1 + S)], layout)."""
        parts, segments, offset = [], [], 0
        for stem, steps in self._ordered(stem_steps):
            parts += [_start_step(steps, start_ids[stem]), steps]
            segments.append(TrackSegment(stem, offset + 1, steps.shape[-1]))
            offset += 1 + steps.shape[-1]
        sequences = torch.cat(parts, dim=-1)
        rows = torch.arange(sequences.shape[0], device=sequences.device)
        return sequences, TrackLayout(tuple(segments), rows)


class IndependentOrder(_BaseOrder):
    """Each stem its own sequence, conditioned on the mixture only; stems folded into the batch."""

    def num_streams(self, streams_per_stem: int) -> int:
        return streams_per_stem

    def stems_to_generate(self, requested: Sequence[str]) -> tuple[str, ...]:
        self._validate_requested(requested)
        return tuple(s for s in self.stems if s in requested)

    def combine(self, stem_steps: Mapping[str, Tensor], start_ids: Mapping[str, int]) -> tuple[Tensor, TrackLayout]:
        """{stem: [B, K', S]} -> ([n B, K', 1 + S], layout); rows j B … (j + 1) B hold stem j."""
        ordered = self._ordered(stem_steps)
        batch = ordered[0][1].shape[0]
        sequences = torch.cat([torch.cat([_start_step(t, start_ids[s]), t], dim=-1) for s, t in ordered], dim=0)
        segments = tuple(
            TrackSegment(stem, 1, steps.shape[-1], rows=slice(j * batch, (j + 1) * batch)) for j, (stem, steps) in enumerate(ordered)
        )
        rows = torch.arange(batch, device=sequences.device).repeat(len(ordered))
        return sequences, TrackLayout(segments, rows)


class InterleavedOrder(_BaseOrder):
    """All stems' tokens at every step: stems stacked along the stream axis."""

    def num_streams(self, streams_per_stem: int) -> int:
        return streams_per_stem * len(self.stems)

    def stems_to_generate(self, requested: Sequence[str]) -> tuple[str, ...]:
        """All stems: they are generated together, step by step."""
        self._validate_requested(requested)
        return self.stems

    def combine(self, stem_steps: Mapping[str, Tensor], start_ids: Mapping[str, int]) -> tuple[Tensor, TrackLayout]:
        """{stem: [B, K', S]} -> ([B, n K', 1 + S], layout); streams j K' … (j + 1) K' hold stem j."""
        ordered = self._ordered(stem_steps)
        if len(ordered) != len(self.stems):
            missing = [s for s in self.stems if s not in stem_steps]
            raise ConfigError(f"interleaved track order needs every stem; missing {missing}")
        streams = ordered[0][1].shape[1]
        sequences = torch.cat([torch.cat([_start_step(t, start_ids[s]), t], dim=-1) for s, t in ordered], dim=1)
        segments = tuple(
            TrackSegment(stem, 1, steps.shape[-1], streams=slice(j * streams, (j + 1) * streams)) for j, (stem, steps) in enumerate(ordered)
        )
        rows = torch.arange(sequences.shape[0], device=sequences.device)
        return sequences, TrackLayout(segments, rows)
