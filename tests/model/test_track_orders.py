import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from tokensep_core.errors import ConfigError
from tokensep_core.tokens.layout import TokenLayout
from tokensep_core.tokens.patterns import DelayPattern, FlattenPattern, ParallelPattern
from tokensep_core.tokens.track_orders import IndependentOrder, InterleavedOrder, SequentialOrder

ORDERS = {"sequential": SequentialOrder(), "independent": IndependentOrder(), "interleaved": InterleavedOrder()}
STARTS = {"vocals": 101, "drums": 102, "bass": 103, "other": 104}


def _steps(batch: int, streams: int, steps: int, seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    return {s: torch.randint(0, 100, (batch, streams, steps), generator=g) for s in STARTS}


@settings(max_examples=40, deadline=None)
@given(name=st.sampled_from(sorted(ORDERS)), batch=st.integers(1, 3), streams=st.integers(1, 5), steps=st.integers(0, 12))
def test_combine_split_round_trip(name, batch, streams, steps) -> None:
    order = ORDERS[name]
    stem_steps = _steps(batch, streams, steps)
    sequences, layout = order.combine(stem_steps, STARTS)
    assert sequences.shape[1] == order.num_streams(streams)
    assert layout.condition_rows.shape == (sequences.shape[0],)
    back = order.split(sequences, layout)
    assert set(back) == set(STARTS)
    for stem, t in stem_steps.items():
        assert torch.equal(back[stem], t)
    for seg in layout.segments:  # each stem's steps are preceded by its start token
        assert (sequences[seg.rows, seg.streams, seg.start - 1] == STARTS[seg.stem]).all()


def test_sequential_layout_and_custom_order() -> None:
    order = SequentialOrder(SequentialOrder.Config(stems=("drums", "vocals")))
    a, b = torch.tensor([[[1, 2]]]), torch.tensor([[[3, 4]]])
    sequences, layout = order.combine({"vocals": a, "drums": b}, STARTS)
    assert sequences.tolist() == [[[102, 3, 4, 101, 1, 2]]]
    assert [(s.stem, s.start) for s in layout.segments] == [("drums", 1), ("vocals", 4)]


def test_default_order_is_vocals_drums_bass_other() -> None:
    assert SequentialOrder().stems == ("vocals", "drums", "bass", "other")


def test_independent_folds_stems_into_batch() -> None:
    sequences, layout = IndependentOrder().combine(_steps(2, 3, 4), STARTS)
    assert sequences.shape == (8, 3, 5)
    assert layout.condition_rows.tolist() == [0, 1, 0, 1, 0, 1, 0, 1]
    assert sequences[2:4, :, 0].eq(STARTS["drums"]).all()


def test_interleaved_stacks_stems_on_streams() -> None:
    sequences, _ = InterleavedOrder().combine(_steps(2, 3, 4), STARTS)
    assert sequences.shape == (2, 12, 5)
    assert sequences[:, 3:6, 0].eq(STARTS["drums"]).all()


def test_stems_to_generate() -> None:
    assert SequentialOrder().stems_to_generate(["drums"]) == ("vocals", "drums")
    assert SequentialOrder().stems_to_generate(["other", "vocals"]) == ("vocals", "drums", "bass", "other")
    assert IndependentOrder().stems_to_generate(["bass", "vocals"]) == ("vocals", "bass")
    assert InterleavedOrder().stems_to_generate(["bass"]) == ("vocals", "drums", "bass", "other")
    with pytest.raises(ConfigError, match="unknown stems"):
        SequentialOrder().stems_to_generate(["piano"])


def test_config_rejects_repeated_stems() -> None:
    with pytest.raises(ValidationError, match="repeat"):
        SequentialOrder.Config(stems=("bass", "bass"))


@pytest.mark.parametrize("pattern", [FlattenPattern(), DelayPattern(), ParallelPattern()], ids=["flatten", "delay", "parallel"])
@pytest.mark.parametrize("order", sorted(ORDERS))
def test_token_layout_round_trip_and_plan(pattern, order) -> None:
    layout = TokenLayout(pattern, ORDERS[order], num_codebooks=3, codebook_size=10)
    codes = {s: torch.randint(0, 10, (2, 3, 5), generator=torch.Generator().manual_seed(i)) for i, s in enumerate(STARTS)}
    sequences, track_layout = layout.encode(codes)
    assert sequences.shape[1] == layout.lm_num_codebooks
    back = layout.decode(sequences, track_layout)
    assert all(torch.equal(back[s], codes[s]) for s in codes)
    plan = layout.plan(5, tuple(STARTS), 2)
    forced = plan.forced >= 0
    assert torch.equal(sequences[forced], plan.forced[forced])
    free = sequences[~forced]
    assert ((free >= plan.low[~forced]) & (free < plan.high[~forced])).all()
    assert (free < layout.code_vocab).all() and (sequences[forced] >= layout.code_vocab).all()
