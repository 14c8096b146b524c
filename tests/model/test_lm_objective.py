import pytest
import torch

from tokensep_core.errors import ConfigError
from tokensep_core.lm.ar_generation import generate
from tokensep_core.lm.ar_objective import drop_condition, lm_loss, null_condition, sequence_loss, teacher_forcing
from tokensep_core.lm.sampling import SamplingConfig
from tokensep_core.tokens.layout import TokenLayout
from tokensep_core.tokens.patterns import DelayPattern, FlattenPattern, ParallelPattern
from tokensep_core.tokens.track_orders import IndependentOrder, InterleavedOrder, SequentialOrder
from tokensep_lms.llama import LlamaLM, LlamaLMConfig

STEMS = ("vocals", "drums", "bass", "other")


def _codes(batch=1, num_codebooks=2, frames=6, size=8, seed=0):
    g = torch.Generator().manual_seed(seed)
    return {s: torch.randint(0, size, (batch, num_codebooks, frames), generator=g) for s in STEMS}


def test_inputs_targets_are_shifted_and_only_codes_carry_loss() -> None:
    layout = TokenLayout(DelayPattern(), SequentialOrder(), num_codebooks=2, codebook_size=8)
    batch = teacher_forcing(layout, _codes())
    sequences, _ = layout.encode(_codes())
    assert torch.equal(batch.inputs, sequences[..., :-1]) and torch.equal(batch.targets, sequences[..., 1:])
    assert torch.equal(batch.weights > 0, batch.targets < layout.code_vocab)
    assert int((batch.weights > 0).sum()) == 4 * 2 * 6  # every code of every stem, once


def test_stem_and_codebook_weights_multiply() -> None:
    layout = TokenLayout(FlattenPattern(), InterleavedOrder(), num_codebooks=2, codebook_size=8)
    batch = teacher_forcing(layout, _codes(), codebook_weights={1: 0.5}, stem_weights={"drums": 3.0})
    # interleaved: drums occupy stream 1; flatten: odd steps hold codebook 1 (targets shifted by one)
    drums = batch.weights[0, 1]
    assert drums[0::2].tolist() == [3.0] * 6 and drums[1::2].tolist() == [1.5] * 6
    assert batch.weights[0, 0, 1::2].tolist() == [0.5] * 6
    with pytest.raises(ConfigError, match="codebook_weights"):
        teacher_forcing(layout, _codes(), codebook_weights={2: 1.0})
    with pytest.raises(ConfigError, match="stem_weights"):
        teacher_forcing(layout, _codes(), stem_weights={"piano": 1.0})


def test_sequence_loss_weighting_and_label_smoothing() -> None:
    targets = torch.tensor([[[1, 2, 9]]])  # 9 is a special id: weight 0, never indexed
    logits = torch.full((1, 1, 3, 4), -10.0)
    logits[0, 0, 0, 1] = logits[0, 0, 1, 2] = 10.0
    weights = torch.tensor([[[1.0, 1.0, 0.0]]])
    assert sequence_loss(logits, targets, weights) < 1e-6
    assert sequence_loss(logits, targets, weights, label_smoothing=0.1) > 0.1
    wrong = logits.clone()
    wrong[0, 0, 1] = logits[0, 0, 1].flip(-1)
    half = sequence_loss(wrong, targets, weights)
    doubled = sequence_loss(wrong, targets, torch.tensor([[[1.0, 3.0, 0.0]]]))
    assert doubled > half  # the wrong step weighs more


def test_condition_dropout() -> None:
    prefix = torch.randn(64, 3, 4)
    assert torch.equal(drop_condition(prefix, 0.0), prefix)
    assert torch.equal(drop_condition(prefix, 1.0), null_condition(prefix))
    dropped = drop_condition(prefix, 0.5, torch.Generator().manual_seed(0))
    zero_rows = (dropped.abs().sum(dim=(1, 2)) == 0).sum()
    assert 10 < zero_rows < 54


@pytest.mark.parametrize(
    "pattern,order",
    [
        (DelayPattern(), SequentialOrder()),
        (FlattenPattern(), IndependentOrder()),
        (ParallelPattern(), InterleavedOrder()),
        (DelayPattern(), InterleavedOrder(InterleavedOrder.Config(stems=("bass", "drums", "other", "vocals")))),
    ],
    ids=["delay-sequential", "flatten-independent", "parallel-interleaved", "delay-interleaved-custom"],
)
def test_trained_tiny_llama_regenerates_its_training_sequence(pattern, order) -> None:
    """Teacher forcing and generation agree on every shift, start token and pad position."""
    layout = TokenLayout(pattern, order, num_codebooks=2, codebook_size=8)
    torch.manual_seed(0)
    lm = LlamaLM(
        LlamaLMConfig(
            preset="tiny",
            width=64,
            num_codebooks=layout.lm_num_codebooks,
            codebook_size=layout.code_vocab,
            num_special_tokens=layout.special.count,
        )
    )
    codes = _codes(batch=2, frames=6)
    prefix = torch.randn(2, 4, 64, generator=torch.Generator().manual_seed(1))
    batch = teacher_forcing(layout, codes)
    optimizer = torch.optim.AdamW(lm.parameters(), lr=1e-2)
    first = None
    for _ in range(100):
        loss = lm_loss(lm, batch, prefix)
        first = first if first is not None else loss.item()
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert loss.item() < 0.05 * first
    generated = generate(lm, layout, prefix, num_frames=6, sampling=SamplingConfig(greedy=True))
    for stem in STEMS:
        assert torch.equal(generated[stem], codes[stem]), stem
