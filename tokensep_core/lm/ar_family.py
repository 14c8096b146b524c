"""The autoregressive family (:class:`~tokensep_core.interfaces.TokenLM`): codes laid out by the
pipeline's pattern and track order, teacher forcing, KV-cached generation step by step."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from torch import Tensor

from tokensep_core.interfaces import Codec, TokenLM
from tokensep_core.lm.ar_generation import generate
from tokensep_core.lm.ar_objective import lm_loss, teacher_forcing
from tokensep_core.lm.family import LMFamily
from tokensep_core.tokens.layout import TokenLayout

if TYPE_CHECKING:
    from tokensep_core.separation.pipeline import PipelineConfig
    from tokensep_core.separation.separator import InferenceConfig
    from tokensep_core.separation.training import LossConfig


class AutoregressiveFamily(LMFamily):
    """Token LMs over the layout's sequences: the LM's K and code vocabulary are the layout's."""

    name = "autoregressive"
    uses_token_layout = True

    def lm_defaults(self, codec: Codec, layout: TokenLayout | None, config: PipelineConfig) -> dict[str, Any]:
        assert layout is not None
        return {"num_codebooks": layout.lm_num_codebooks, "codebook_size": layout.code_vocab, "num_special_tokens": layout.special.count}

    def check_pipeline(self, lm: TokenLM, codec: Codec, layout: TokenLayout | None, config: PipelineConfig) -> None:
        assert layout is not None
        layout.check_lm(lm)

    def loss(
        self,
        lm: TokenLM,
        layout: TokenLayout | None,
        codes: Mapping[str, Tensor],
        prefix: Tensor,
        prefix_mask: Tensor | None,
        config: LossConfig,
    ) -> Tensor:
        assert layout is not None
        forcing = teacher_forcing(layout, codes, config.codebook_weights, config.stem_weights)
        return lm_loss(lm, forcing, prefix, prefix_mask, config.label_smoothing)

    def generate(
        self,
        lm: TokenLM,
        layout: TokenLayout | None,
        prefix: Tensor,
        num_frames: int,
        prefix_mask: Tensor | None,
        inference: InferenceConfig,
        stems: Sequence[str],
        seed: int | None,
        progress: bool = False,
    ) -> dict[str, Tensor]:
        assert layout is not None
        return generate(lm, layout, prefix, num_frames, prefix_mask, inference.sampling, stems, seed, progress)

    def check(self, lm: TokenLM, steps: int = 6, prefix_steps: int = 5, seed: int = 0) -> None:
        from tokensep_core.testing.conformance import check_token_lm

        check_token_lm(lm, steps, prefix_steps, seed)


AUTOREGRESSIVE = AutoregressiveFamily()
