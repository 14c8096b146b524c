"""The masked family (:class:`~tokensep_core.interfaces.MaskedTokenLM`): the codec's codes read
directly (no pattern or track order), masked-token prediction, iterative parallel decoding."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING, Any

from torch import Tensor

from tokensep_core.errors import ConfigError
from tokensep_core.interfaces import Codec, MaskedTokenLM
from tokensep_core.lm.family import LMFamily
from tokensep_core.lm.masked_generation import generate_parallel
from tokensep_core.lm.masked_objective import masked_loss

if TYPE_CHECKING:
    from tokensep_core.separation.pipeline import PipelineConfig
    from tokensep_core.separation.separator import InferenceConfig
    from tokensep_core.separation.training import LossConfig
    from tokensep_core.tokens.layout import TokenLayout


class MaskedFamily(LMFamily):
    """Masked LMs with the codec's K and codebook size and the pipeline's stems; decoding runs
    ``passes`` forwards per codebook level (``inference.passes`` overrides the LM's own)."""

    name = "masked"
    uses_token_layout = False
    inference_settings = frozenset({"passes"})

    def lm_defaults(self, codec: Codec, layout: TokenLayout | None, config: PipelineConfig) -> dict[str, Any]:
        return {"num_codebooks": codec.num_codebooks, "codebook_size": codec.codebook_size, "stems": list(config.stems)}

    def check_pipeline(self, lm: MaskedTokenLM, codec: Codec, layout: TokenLayout | None, config: PipelineConfig) -> None:
        if (lm.num_codebooks, lm.codebook_size) != (codec.num_codebooks, codec.codebook_size):
            raise ConfigError(
                f"lm {config.lm.name!r} has {lm.num_codebooks} codebooks of {lm.codebook_size} codes; "
                f"codec {config.codec.name!r} has {codec.num_codebooks} of {codec.codebook_size}"
            )
        missing = [s for s in config.stems if s not in lm.stems]
        if missing:
            raise ConfigError(f"lm {config.lm.name!r} cannot generate stems {missing} (it knows {', '.join(lm.stems)})")

    def loss(
        self,
        lm: MaskedTokenLM,
        layout: TokenLayout | None,
        codes: Mapping[str, Tensor],
        prefix: Tensor,
        prefix_mask: Tensor | None,
        config: LossConfig,
    ) -> Tensor:
        return masked_loss(lm, codes, prefix, prefix_mask, config.codebook_weights, config.stem_weights, config.label_smoothing)

    def generate(
        self,
        lm: MaskedTokenLM,
        layout: TokenLayout | None,
        prefix: Tensor,
        num_frames: int,
        prefix_mask: Tensor | None,
        inference: InferenceConfig,
        stems: Sequence[str],
        seed: int | None,
        progress: bool = False,
    ) -> dict[str, Tensor]:
        return generate_parallel(lm, prefix, num_frames, prefix_mask, inference.sampling, stems, seed, inference.passes, progress)

    def check(self, lm: MaskedTokenLM, steps: int = 6, prefix_steps: int = 5, seed: int = 0) -> None:
        from tokensep_core.testing.conformance import check_masked_lm

        check_masked_lm(lm, steps, prefix_steps, seed)


MASKED = MaskedFamily()
