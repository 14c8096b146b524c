"""The three variants pass tokensep's conformance suite (trainable codecs), mono and stereo, and are this package's."""

import pytest

from tokensep_core.interfaces import TrainableCodec
from tokensep_core.plugins import load_registry
from tokensep_core.testing import check_registered
from tokensep_transient.base import tokens_per_second

NAMES = ["hcodec_dual_rate", "hcodec_onset_tokens", "hcodec_transient_loss"]


@pytest.mark.parametrize("channels", [1, 2])
@pytest.mark.parametrize("name", NAMES)
def test_conformance(name: str, channels: int, tiny) -> None:
    codec = check_registered("codec", name, {**tiny[name], "channels": channels})
    assert isinstance(codec, TrainableCodec)  # so check_registered ran check_trainable_codec too
    assert codec.frame_rate == 100.0


def test_registered_by_this_distribution(tiny) -> None:
    registry = load_registry()
    for name in tiny:
        assert registry.get("codec", name).provider.name == "tokensep-transient"


def test_tokens_per_second_follow_the_layouts(tiny) -> None:
    registry = load_registry()
    built = {name: registry.build("codec", {"name": name, "params": params}) for name, params in tiny.items()}
    assert tokens_per_second(built["hcodec_transient_loss"]) == 100 * 4  # tiny HCodec: 2 + 2 codebooks
    assert tokens_per_second(built["hcodec_dual_rate"]) == 100 * (4 + 4 * 1)  # r = 160 / 40 = 4, K_hi = 1
    assert tokens_per_second(built["hcodec_onset_tokens"]) == 100 * (4 + 1)
