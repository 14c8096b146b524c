import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from tokensep_core.tokens.patterns import DelayPattern, FlattenPattern, ParallelPattern

PATTERNS = {"flatten": FlattenPattern(), "delay": DelayPattern(), "parallel": ParallelPattern()}


@settings(max_examples=60, deadline=None)
@given(
    name=st.sampled_from(sorted(PATTERNS)),
    batch=st.integers(1, 3),
    num_codebooks=st.integers(1, 9),
    num_frames=st.integers(1, 40),
    codebook_size=st.integers(2, 1024),
    seed=st.integers(0, 2**16),
)
def test_build_revert_round_trip(name, batch, num_codebooks, num_frames, codebook_size, seed) -> None:
    pattern = PATTERNS[name]
    codes = torch.randint(0, codebook_size, (batch, num_codebooks, num_frames), generator=torch.Generator().manual_seed(seed))
    pad = pattern.code_vocab(num_codebooks, codebook_size)
    steps = pattern.build(codes, codebook_size, pad)
    assert steps.shape == (batch, pattern.num_streams(num_codebooks), pattern.num_steps(num_frames, num_codebooks))
    assert torch.equal(pattern.revert(steps, num_codebooks, codebook_size), codes)
    plan = pattern.plan(num_frames, num_codebooks, codebook_size)
    assert plan.codebook.shape == steps.shape[1:]
    # padding exactly where the plan says no code is due; every code inside its allowed range
    assert torch.equal(steps == pad, (plan.codebook < 0).expand_as(steps))
    is_code = plan.codebook >= 0
    assert ((steps >= plan.low) & (steps < plan.high))[:, is_code].all()
    assert (steps < pad).sum() == codes.numel()


def test_delay_layout_matches_musicgen() -> None:
    codes = torch.tensor([[[1, 2, 3], [4, 5, 6], [7, 8, 9]]])
    steps = DelayPattern().build(codes, 10, pad_id=10)
    assert steps.tolist() == [[[1, 2, 3, 10, 10], [10, 4, 5, 6, 10], [10, 10, 7, 8, 9]]]


def test_flatten_interleaves_codebooks_with_offsets() -> None:
    codes = torch.tensor([[[1, 2], [3, 4]]])
    steps = FlattenPattern().build(codes, 10, pad_id=20)
    assert steps.tolist() == [[[1, 13, 2, 14]]]
    plan = FlattenPattern().plan(2, 2, 10)
    assert plan.low.tolist() == [[0, 10, 0, 10]] and plan.high.tolist() == [[10, 20, 10, 20]]


@pytest.mark.parametrize("name", sorted(PATTERNS))
def test_works_on_other_integer_dtypes_and_keeps_device(name) -> None:
    codes = torch.randint(0, 16, (2, 3, 5), dtype=torch.int32)
    pattern = PATTERNS[name]
    steps = pattern.build(codes, 16, pattern.code_vocab(3, 16))
    assert steps.device == codes.device
    assert torch.equal(pattern.revert(steps, 3, 16), codes)
