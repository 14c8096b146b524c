"""Codebook health (tokensep_core.tokens.health) on hand-made codes."""

import math

import pytest
import torch

from tokensep_core.tokens.health import (
    DEGENERATE_PERPLEXITY,
    code_histogram,
    codebook_health,
    codebook_perplexity,
    codebook_usage,
    degenerate_codebooks,
    describe_degenerate,
    perplexity_metrics,
)


def test_constant_codes_have_perplexity_one_and_are_degenerate():
    codes = torch.full((3, 2, 40), 7)  # every frame of both codebooks is id 7
    health = codebook_health(codes, 16)
    assert [(h.used, h.dead, h.degenerate) for h in health] == [(1, 15, True), (1, 15, True)]
    assert [h.perplexity for h in health] == pytest.approx([1.0, 1.0])
    assert degenerate_codebooks(health) == [0, 1]
    assert describe_degenerate(health) == "codebooks 0 (perplexity 1.00, 1 id used), 1 (perplexity 1.00, 1 id used)"


def test_uniform_codes_have_perplexity_of_the_codebook_size():
    size = 32
    codes = torch.arange(size).repeat(2, 1, 3)  # [2, 1, 96]: every id six times
    (health,) = codebook_health(codes, size)
    assert health.used == size and health.dead == 0 and not health.degenerate
    assert health.perplexity == pytest.approx(size)
    assert describe_degenerate([health]) == ""


def test_a_mix_of_codebooks_is_measured_one_by_one():
    # codebook 0: ids 0 and 1 equally often; codebook 1: always id 3; codebook 2: all 8 ids once
    codes = torch.tensor([[[0, 1, 0, 1, 0, 1, 0, 1], [3] * 8, list(range(8))]])
    hist = code_histogram(codes, 8)
    assert hist.tolist() == [[4, 4, 0, 0, 0, 0, 0, 0], [0, 0, 0, 8, 0, 0, 0, 0], [1] * 8]
    assert codebook_usage(hist).tolist() == [2 / 8, 1 / 8, 1.0]
    assert codebook_perplexity(hist).tolist() == pytest.approx([2.0, 1.0, 8.0])
    health = codebook_health(codes, 8)
    assert degenerate_codebooks(health) == [1]  # two equally used ids = 1 bit: not degenerate
    assert [h.dead for h in health] == [6, 7, 0]


def test_one_rare_id_beside_a_dominant_one_is_still_degenerate():
    codes = torch.zeros(1, 1, 100, dtype=torch.long)
    codes[..., :3] = 5  # 97 % one id: perplexity ~1.14
    (health,) = codebook_health(codes, 64)
    assert health.used == 2 and 1 < health.perplexity < DEGENERATE_PERPLEXITY and health.degenerate
    assert codebook_health(codes, 64, threshold=1.1)[0].degenerate is False


def test_perplexity_metrics_for_training_logs():
    codes = torch.stack([torch.zeros(48, dtype=torch.long), torch.arange(48) % 4]).unsqueeze(0)  # [1, 2, 48]
    metrics = perplexity_metrics(codes, 16)
    assert list(metrics) == ["perplexity_0", "perplexity_1"]
    assert float(metrics["perplexity_0"]) == pytest.approx(1.0)
    assert float(metrics["perplexity_1"]) == pytest.approx(4.0)
    assert all(v.dtype == torch.float32 and v.dim() == 0 and math.isfinite(float(v)) for v in metrics.values())


def test_codes_must_be_three_dimensional():
    with pytest.raises(ValueError, match=r"\[B, K, T'\]"):
        code_histogram(torch.zeros(2, 10, dtype=torch.long), 8)
