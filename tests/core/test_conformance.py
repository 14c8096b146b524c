import pytest
import torch

from tokensep_codecs.debug import DebugCodec, DebugCodecConfig
from tokensep_core.testing import ConformanceError, check_codec, check_lm, check_registered
from tokensep_lms.debug import DebugLM, DebugLMConfig


@pytest.mark.parametrize("kind", ["codec", "encoder", "lm"])
def test_debug_components_conform(kind: str) -> None:
    check_registered(kind, "debug")


class ShortCodec(DebugCodec):
    """Drops the last frame: breaks the encode shape contract."""

    def encode(self, wav: torch.Tensor) -> torch.Tensor:
        return super().encode(wav)[..., :-1]


class ForgetfulLM(DebugLM):
    """Ignores its cache: incremental decoding disagrees with a full forward."""

    def forward(self, tokens, prefix=None, prefix_mask=None, cache=None):
        logits, new_cache = super().forward(tokens, prefix, prefix_mask, None)
        return logits, new_cache


def test_suite_catches_a_wrong_code_shape() -> None:
    with pytest.raises(ConformanceError, match="expected codes"):
        check_codec(ShortCodec(DebugCodecConfig()))


def test_suite_catches_a_cache_that_is_ignored() -> None:
    torch.manual_seed(0)
    with pytest.raises(ConformanceError, match="cache"):
        check_lm(ForgetfulLM(DebugLMConfig()))


def test_llama_cache_selection_conforms_and_a_wrong_one_is_caught() -> None:
    from tokensep_lms.llama import LlamaLM, LlamaLMConfig

    class MisselectingLM(LlamaLM):
        """Hands every row the first row's prefix."""

        def select_cache(self, cache, rows):
            return super().select_cache(cache, torch.zeros_like(rows))

    torch.manual_seed(0)
    check_lm(LlamaLM(LlamaLMConfig(preset="tiny")))
    torch.manual_seed(0)
    with pytest.raises(ConformanceError, match="select_cache"):
        check_lm(MisselectingLM(LlamaLMConfig(preset="tiny")))
