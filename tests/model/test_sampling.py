import pytest
import torch
from pydantic import ValidationError

from tokensep_core.lm.sampling import SamplingConfig, filter_logits, sample_ids

LOGITS = torch.log(torch.tensor([[0.5, 0.25, 0.15, 0.07, 0.03]]))


def kept(config: SamplingConfig) -> list[int]:
    return torch.isfinite(filter_logits(LOGITS, config))[0].nonzero().flatten().tolist()


def test_filters_keep_the_expected_ids() -> None:
    assert kept(SamplingConfig()) == [0, 1, 2, 3, 4]
    assert kept(SamplingConfig(top_k=2)) == [0, 1]
    assert kept(SamplingConfig(top_p=0.7)) == [0, 1]  # 0.5 < 0.7, 0.75 reaches it
    assert kept(SamplingConfig(top_p=0.75)) == [0, 1]
    assert kept(SamplingConfig(top_p=0.76)) == [0, 1, 2]
    assert kept(SamplingConfig(min_p=0.25)) == [0, 1, 2]  # p >= 0.125
    assert kept(SamplingConfig(top_p=0.01)) == [0]


def test_temperature_sharpens() -> None:
    cold = filter_logits(LOGITS, SamplingConfig(temperature=0.5)).softmax(-1)
    assert cold[0, 0] > 0.5


def test_greedy_is_argmax_and_sampling_respects_generator() -> None:
    assert sample_ids(LOGITS, SamplingConfig(greedy=True)).tolist() == [0]
    logits = LOGITS.expand(200, -1)
    a = sample_ids(logits, SamplingConfig(), torch.Generator().manual_seed(3))
    b = sample_ids(logits, SamplingConfig(), torch.Generator().manual_seed(3))
    assert torch.equal(a, b) and len(set(a.tolist())) > 1
    assert set(sample_ids(logits, SamplingConfig(top_k=2), torch.Generator().manual_seed(0)).tolist()) <= {0, 1}


def test_disallowed_ids_are_never_sampled() -> None:
    logits = LOGITS.clone().expand(500, -1).clone()
    logits[:, 0] = float("-inf")
    ids = sample_ids(logits, SamplingConfig(temperature=2.0), torch.Generator().manual_seed(0))
    assert 0 not in ids.tolist()


def test_config_validation() -> None:
    with pytest.raises(ValidationError):
        SamplingConfig(temperature=0)
    with pytest.raises(ValidationError):
        SamplingConfig(top_p=1.5)
    with pytest.raises(ValidationError):
        SamplingConfig(tempreature=1.0)


@pytest.mark.parametrize("config", [SamplingConfig(), SamplingConfig(top_k=3), SamplingConfig(top_k=4, top_p=0.85)])
def test_draws_follow_the_filtered_distribution(config: SamplingConfig) -> None:
    expected = filter_logits(LOGITS, config).softmax(-1)[0]
    ids = sample_ids(LOGITS.expand(40000, -1), config, torch.Generator().manual_seed(1))
    frequencies = torch.bincount(ids, minlength=5) / ids.numel()
    assert torch.allclose(frequencies, expected, atol=0.01)


def test_candidates_that_are_disallowed_are_never_drawn() -> None:
    logits = torch.full((300, 6), float("-inf"))
    logits[:, 4] = 0.0  # the only allowed id, fewer than top_k
    assert set(sample_ids(logits, SamplingConfig(top_k=3, top_p=0.9), torch.Generator().manual_seed(0)).tolist()) == {4}
