"""Codec codes of several stems <-> LM sequences: a pattern, a track order and the special ids.

Training (tokensep_core.lm.ar_objective) and generation (tokensep_core.lm.ar_generation) both go
through :class:`TokenLayout`, so the two always agree on where every token sits.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import torch
from torch import Tensor

from tokensep_core.errors import ConfigError
from tokensep_core.interfaces import CodebookPattern, TokenLM, TrackLayout, TrackOrder
from tokensep_core.lm.conditioning import reads_frames
from tokensep_core.tokens.special import SpecialTokens


@dataclass(frozen=True)
class SequencePlan:
    """Every position of the combined sequences ``[B', K'', S'']`` before generation.

    ``forced``: the id that must sit there (start tokens, pattern padding), -1 where a code is
    generated; ``low``/``high``: the id range allowed where generated; ``codebook``: the codec
    codebook a generated position belongs to (-1 elsewhere).
    """

    forced: Tensor
    low: Tensor
    high: Tensor
    codebook: Tensor
    layout: TrackLayout


@dataclass(frozen=True)
class TokenLayout:
    """How one codec's codes (K codebooks of ``codebook_size``) become LM token sequences."""

    pattern: CodebookPattern
    track_order: TrackOrder
    num_codebooks: int
    codebook_size: int

    @property
    def streams_per_stem(self) -> int:
        """K': streams the pattern makes of one stem."""
        return self.pattern.num_streams(self.num_codebooks)

    @property
    def lm_num_codebooks(self) -> int:
        """K'': parallel streams the LM reads and predicts."""
        return self.track_order.num_streams(self.streams_per_stem)

    @property
    def code_vocab(self) -> int:
        """Code ids per stream: the LM's ``codebook_size`` (its output vocabulary)."""
        return self.pattern.code_vocab(self.num_codebooks, self.codebook_size)

    @property
    def special(self) -> SpecialTokens:
        return SpecialTokens(self.code_vocab, self.track_order.stems)

    def check_lm(self, lm: TokenLM) -> None:
        """Refuse an LM whose streams or vocabularies cannot hold these sequences."""
        if (lm.num_codebooks, lm.codebook_size) != (self.lm_num_codebooks, self.code_vocab):
            raise ConfigError(
                f"lm has {lm.num_codebooks} codebooks of {lm.codebook_size} ids; this pattern and "
                f"track order need {self.lm_num_codebooks} of {self.code_vocab}"
            )
        if lm.vocab_size < self.special.vocab_size:
            raise ConfigError(
                f"lm vocab_size {lm.vocab_size} < {self.special.vocab_size} "
                f"({self.code_vocab} codes + {self.special.count} special ids): raise num_special_tokens"
            )
        if reads_frames(lm) and self.pattern.plan(1, self.num_codebooks, self.codebook_size).frame is None:
            raise ConfigError(
                f"lm conditioning {lm.conditioning!r} needs the frame each step holds; pattern {type(self.pattern).__name__} "
                "does not say (StepPlan.frame)"
            )

    def encode(self, stem_codes: Mapping[str, Tensor]) -> tuple[Tensor, TrackLayout]:
        """``{stem: codes [B, K, T']}`` -> (sequences ``[B', K'', S'']``, layout)."""
        special = self.special
        steps = {s: self.pattern.build(c, self.codebook_size, special.pad) for s, c in stem_codes.items()}
        return self.track_order.combine(steps, special.start_ids())

    def decode(self, sequences: Tensor, layout: TrackLayout) -> dict[str, Tensor]:
        """Inverse of :meth:`encode`: -> ``{stem: codes [B, K, T']}``."""
        return {
            stem: self.pattern.revert(steps, self.num_codebooks, self.codebook_size)
            for stem, steps in self.track_order.split(sequences, layout).items()
        }

    def plan(self, num_frames: int, stems: Sequence[str], batch: int, device: torch.device | str = "cpu") -> SequencePlan:
        """The forced ids and allowed ranges of sequences holding ``stems`` for ``batch`` items."""
        step_plan = self.pattern.plan(num_frames, self.num_codebooks, self.codebook_size)
        pad = self.special.pad

        def per_stem(t: Tensor) -> dict[str, Tensor]:
            return {s: t.to(device).unsqueeze(0).expand(batch, -1, -1) for s in stems}

        no_start = {s: -1 for s in stems}
        forced, layout = self.track_order.combine(per_stem(torch.where(step_plan.codebook >= 0, -1, pad)), self.special.start_ids())
        low, _ = self.track_order.combine(per_stem(step_plan.low), no_start)
        high, _ = self.track_order.combine(per_stem(step_plan.high), no_start)
        codebook, _ = self.track_order.combine(per_stem(step_plan.codebook), no_start)
        return SequencePlan(forced, low, high, codebook, layout)

    def frame_index(self, num_frames: int, stems: Sequence[str]) -> Tensor:
        """``[S'']``: the codec frame each step of sequences holding ``stems`` (as :meth:`plan`
        lays them out) holds, -1 where none (start tokens, padding). A step holding codes of
        several frames (the delay pattern's codebook k holds frame s - k) gives the newest."""
        frame = self.pattern.plan(num_frames, self.num_codebooks, self.codebook_size).frame
        if frame is None:
            raise ConfigError(f"pattern {type(self.pattern).__name__} does not say which frame each step holds (StepPlan.frame)")
        combined, _ = self.track_order.combine({s: frame.unsqueeze(0) for s in stems}, {s: -1 for s in stems})
        return combined.amax(dim=(0, 1))
