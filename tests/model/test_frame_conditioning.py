"""Frame-aligned conditioning (tokensep_core.lm.conditioning): the mixture's embeddings resampled
to codec frames and added to the steps of each frame, beside or instead of the prefix."""

from pathlib import Path

import pytest
import torch

from tokensep_core.errors import ConfigError
from tokensep_core.interfaces import CodebookPattern, StepPlan
from tokensep_core.lm.ar_generation import generate
from tokensep_core.lm.ar_objective import lm_loss, null_condition, teacher_forcing
from tokensep_core.lm.conditioning import align_frames, gather_frames
from tokensep_core.lm.masked_generation import generate_parallel
from tokensep_core.lm.masked_objective import masked_loss
from tokensep_core.lm.sampling import SamplingConfig
from tokensep_core.tokens.layout import TokenLayout
from tokensep_core.tokens.patterns import DelayPattern, FlattenPattern, ParallelPattern
from tokensep_core.tokens.track_orders import IndependentOrder, InterleavedOrder, SequentialOrder
from tokensep_lms.debug import DebugLM, DebugLMConfig
from tokensep_lms.llama import LlamaLM, LlamaLMConfig
from tokensep_lms.masked import MaskedLM, MaskedLMConfig

GREEDY = SamplingConfig(greedy=True)
PATTERNS = {"flatten": FlattenPattern(), "delay": DelayPattern(), "parallel": ParallelPattern()}
ORDERS = {
    "sequential": SequentialOrder(),
    "independent": IndependentOrder(),
    "interleaved": InterleavedOrder(),
}
STEMS = ("vocals", "drums", "bass", "other")


def setup(pattern="delay", order="sequential", conditioning="frame", lm="llama"):
    layout = TokenLayout(PATTERNS[pattern], ORDERS[order], num_codebooks=2, codebook_size=8)
    torch.manual_seed(0)
    shape = {
        "num_codebooks": layout.lm_num_codebooks,
        "codebook_size": layout.code_vocab,
        "num_special_tokens": layout.special.count,
        "conditioning": conditioning,
    }
    model = LlamaLM(LlamaLMConfig(preset="tiny", **shape)) if lm == "llama" else DebugLM(DebugLMConfig(**shape))
    prefix = torch.randn(3, 7, model.dim, generator=torch.Generator().manual_seed(1))
    return model.eval(), layout, prefix


def random_codes(batch=3, frames=5, seed=2):
    g = torch.Generator().manual_seed(seed)
    return {s: torch.randint(0, 8, (batch, 2, frames), generator=g) for s in STEMS}


@pytest.mark.parametrize(
    ("pattern", "order", "expected"),
    [
        ("delay", "sequential", [-1, 0, 1, 2, 2, -1, 0, 1, 2, 2]),  # step 3 holds only codebook 1's frame 2
        ("delay", "independent", [-1, 0, 1, 2, 2]),
        ("delay", "interleaved", [-1, 0, 1, 2, 2]),
        ("flatten", "sequential", [-1, 0, 0, 1, 1, 2, 2, -1, 0, 0, 1, 1, 2, 2]),
        ("parallel", "sequential", [-1, 0, 1, 2, -1, 0, 1, 2]),
    ],
)
def test_frame_index_says_which_frame_each_step_holds(pattern, order, expected) -> None:
    layout = TokenLayout(PATTERNS[pattern], ORDERS[order], num_codebooks=2, codebook_size=8)
    stems = ("vocals", "drums") if order != "interleaved" else STEMS
    assert layout.frame_index(3, stems).tolist() == expected


def test_align_frames_resamples_linearly_and_zeroes_padding() -> None:
    prefix = torch.tensor([[[0.0], [4.0]]])  # [1, P=2, 1]
    assert align_frames(prefix, None, 4).flatten().tolist() == [0.0, 1.0, 3.0, 4.0]
    assert torch.equal(align_frames(prefix, None, 2), prefix)
    masked = align_frames(prefix, torch.tensor([[True, False]]), 2)
    assert masked.flatten().tolist() == [0.0, 0.0]
    frames = torch.arange(3.0).view(1, 3, 1) + 1
    assert gather_frames(frames, torch.tensor([-1, 2, 0])).flatten().tolist() == [0.0, 3.0, 1.0]


def _per_step_condition(layout, lm, prefix, codes):
    batch = teacher_forcing(layout, codes)
    rows = batch.layout.condition_rows
    frame_cond = gather_frames(align_frames(prefix[rows], None, batch.num_frames), batch.frame_index)
    return batch, rows, frame_cond


@pytest.mark.parametrize(
    ("pattern", "order", "conditioning"),
    [
        ("delay", "sequential", "frame"),
        ("delay", "independent", "frame"),
        ("delay", "interleaved", "frame"),
        ("flatten", "sequential", "frame"),
        ("delay", "sequential", "both"),
    ],
)
def test_cached_steps_equal_one_uncached_forward(pattern, order, conditioning) -> None:
    lm, layout, prefix = setup(pattern, order, conditioning)
    batch, rows, frame_cond = _per_step_condition(layout, lm, prefix, random_codes())
    given = {"prefix": prefix[rows]} if conditioning == "both" else {}
    with torch.no_grad():
        full, _ = lm(batch.inputs, frame_cond=frame_cond, **given)
        logits, cache = lm(batch.inputs[..., :1], frame_cond=frame_cond[:, :1], **given)
        steps = [logits]
        for t in range(1, batch.inputs.shape[-1]):
            logits, cache = lm(batch.inputs[..., t : t + 1], cache=cache, frame_cond=frame_cond[:, t : t + 1])
            steps.append(logits)
    assert cache.length == batch.inputs.shape[-1] + (prefix.shape[1] if conditioning == "both" else 0)
    torch.testing.assert_close(torch.cat(steps, dim=2), full, atol=1e-5, rtol=1e-5)


def test_the_input_of_a_step_reads_the_frame_it_predicts() -> None:
    """Causal attention: the condition of frame t changes the logits from the step that
    predicts frame t's first code on, and none before it."""
    lm, layout, prefix = setup("parallel", "sequential")
    codes = {s: c[:1] for s, c in random_codes().items()}
    batch, _, frame_cond = _per_step_condition(layout, lm, prefix[:1], codes)
    changed = frame_cond.clone()
    changed[:, batch.frame_index == 2] += 1.0
    with torch.no_grad():
        a, _ = lm(batch.inputs, frame_cond=frame_cond)
        b, _ = lm(batch.inputs, frame_cond=changed)
    first = int((batch.frame_index == 2).nonzero()[0])
    assert batch.targets[0, 0, first] == codes["vocals"][0, 0, 2], "position `first` predicts frame 2 of the first stem"
    assert torch.equal(a[:, :, :first], b[:, :, :first])
    assert not torch.allclose(a[:, :, first], b[:, :, first])


@pytest.mark.parametrize(
    ("pattern", "order"), [("delay", "sequential"), ("delay", "independent"), ("delay", "interleaved"), ("flatten", "sequential")]
)
@pytest.mark.parametrize("lm_name", ["llama", "debug"])
def test_greedy_generation_reads_the_condition_as_training_does(pattern, order, lm_name) -> None:
    """Greedy codes are the argmax of the teacher-forced logits on themselves: generation and
    training give each step the same frame's condition."""
    lm, layout, prefix = setup(pattern, order, lm=lm_name)
    codes = generate(lm, layout, prefix, num_frames=4, sampling=GREEDY)
    batch, _, frame_cond = _per_step_condition(layout, lm, prefix, codes)
    plan = layout.plan(4, list(codes), prefix.shape[0])
    with torch.no_grad():
        logits, _ = lm(batch.inputs, frame_cond=frame_cond)
    ids = torch.arange(logits.shape[-1])
    allowed = (ids >= plan.low[..., 1:, None]) & (ids < plan.high[..., 1:, None])
    predicted = logits.masked_fill(~allowed, float("-inf")).argmax(-1)
    generated = batch.weights > 0
    assert torch.equal(predicted[generated], batch.targets[generated])
    # and the condition matters: the null condition gives other codes
    null = generate(lm, layout, null_condition(prefix), num_frames=4, sampling=GREEDY)
    assert any(not torch.equal(codes[s], null[s]) for s in codes)


def test_frame_mode_has_no_prefix_and_the_loss_reads_the_condition() -> None:
    lm, layout, prefix = setup("delay", "sequential")
    codes = random_codes()
    batch = teacher_forcing(layout, codes)
    true = lm_loss(lm, batch, prefix)
    assert not torch.allclose(true, lm_loss(lm, batch, null_condition(prefix)))
    assert not torch.allclose(true, lm_loss(lm, batch, prefix.flip(0)))
    assert torch.allclose(lm_loss(lm, batch, prefix, torch.ones(3, 7, dtype=torch.bool)), true)


@pytest.mark.parametrize("order", ["sequential", "interleaved"])
@pytest.mark.parametrize("conditioning", ["frame", "both"])
def test_guidance_contrasts_with_zero_frames(order, conditioning) -> None:
    lm, layout, prefix = setup("delay", order, conditioning)
    guided = generate(lm, layout, prefix, 4, sampling=SamplingConfig(cfg_scale=3.0, top_k=4), seed=0)
    assert all(c.shape == (3, 2, 4) for c in guided.values())
    only_null = generate(lm, layout, prefix, 4, sampling=SamplingConfig(greedy=True, cfg_scale=0.0))
    unguided_null = generate(lm, layout, null_condition(prefix), 4, sampling=GREEDY)
    assert all(torch.equal(only_null[s], unguided_null[s]) for s in only_null)


def test_masked_lm_adds_each_frames_condition_to_every_stem() -> None:
    torch.manual_seed(0)
    lm = MaskedLM(MaskedLMConfig(preset="tiny", num_codebooks=2, codebook_size=8, conditioning="frame", passes=(2, 1))).eval()
    prefix = torch.randn(2, 7, lm.dim, generator=torch.Generator().manual_seed(1))
    codes = {s: c[:2] for s, c in random_codes().items()}
    loss = masked_loss(lm, codes, prefix, generator=torch.Generator().manual_seed(0))
    assert not torch.allclose(loss, masked_loss(lm, codes, null_condition(prefix), generator=torch.Generator().manual_seed(0)))
    tokens = torch.stack([codes[s] for s in STEMS], dim=1)
    frame_cond = align_frames(prefix, None, 5)
    with torch.no_grad():
        logits = lm(tokens, frame_cond=frame_cond)
        other = lm(tokens, frame_cond=torch.cat([frame_cond[1:], frame_cond[:1]]))
    assert logits.shape == (2, 4, 2, 5, 8)
    assert not torch.allclose(logits[0], other[0]) and not torch.allclose(logits[1], other[1])
    generated = generate_parallel(lm, prefix, 5, sampling=SamplingConfig(cfg_scale=2.0), seed=0)
    assert all(c.shape == (2, 2, 5) and c.max() < 8 for c in generated.values())
    only_null = generate_parallel(lm, prefix, 5, sampling=SamplingConfig(greedy=True, cfg_scale=0.0))
    unguided_null = generate_parallel(lm, null_condition(prefix), 5, sampling=GREEDY)
    assert all(torch.equal(only_null[s], unguided_null[s]) for s in STEMS)


def test_configs_default_to_the_prefix_and_refuse_unknown_modes() -> None:
    assert LlamaLMConfig().conditioning == "prefix" and MaskedLMConfig().conditioning == "prefix"
    assert DebugLMConfig().conditioning == "prefix"
    with pytest.raises(ValueError, match="conditioning"):
        LlamaLMConfig(conditioning="cross")


def test_a_pattern_that_does_not_say_its_frames_is_refused_for_frame_conditioning() -> None:
    class Opaque(CodebookPattern):
        def __init__(self) -> None:
            self.inner = DelayPattern()

        def num_streams(self, k):
            return self.inner.num_streams(k)

        def code_vocab(self, k, size):
            return self.inner.code_vocab(k, size)

        def num_steps(self, frames, k):
            return self.inner.num_steps(frames, k)

        def build(self, codes, size, pad):
            return self.inner.build(codes, size, pad)

        def revert(self, steps, k, size):
            return self.inner.revert(steps, k, size)

        def plan(self, frames, k, size):
            plan = self.inner.plan(frames, k, size)
            return StepPlan(plan.codebook, plan.low, plan.high)

    lm, _, prefix = setup()
    layout = TokenLayout(Opaque(), SequentialOrder(), num_codebooks=2, codebook_size=8)
    with pytest.raises(ConfigError, match="StepPlan.frame"):
        layout.check_lm(lm)
    prefix_lm, _, _ = setup(conditioning="prefix")
    layout.check_lm(prefix_lm)


@pytest.mark.parametrize(
    "lm",
    [
        {"name": "llama", "params": {"preset": "tiny", "conditioning": "frame"}},
        {"name": "masked", "params": {"preset": "tiny", "conditioning": "frame", "passes": [2, 1]}},
    ],
)
def test_a_frame_conditioned_separator_trains_and_separates(lm, tmp_path: Path) -> None:
    from tokensep_core.separation.separator import GenerativeSeparator
    from tokensep_core.separation.training import build_separator_training
    from tokensep_core.training.config import TrainerConfig
    from tokensep_core.training.trainer import train

    sections = {
        "model": {"codec": {"name": "debug"}, "encoder": {"name": "debug"}, "lm": lm},
        "data": {"name": "synthetic", "params": {"songs": 2, "seconds": 1.0, "sample_rate": 16000, "seed": 3}},
        "augment": {"seconds": 0.5, "examples_per_epoch": 4},
        "inference": {"segment_seconds": 0.5, "batch_size": 4},
    }
    task, examples = build_separator_training(sections, "frame.yaml")
    train(task, TrainerConfig(steps=2, batch_size=2, lr=3e-3, warmup_steps=1, checkpoint_every=0, log_every=1), tmp_path, examples)
    separator = GenerativeSeparator.from_pretrained(tmp_path, device="cpu")
    assert separator.pipeline.lm.conditioning == "frame"
    mixture = 0.1 * torch.randn(2, 12000, generator=torch.Generator().manual_seed(0))
    stems = separator.separate(mixture, 16000)
    assert set(stems) == set(STEMS)
    assert all(s.shape == mixture.shape and torch.isfinite(s).all() for s in stems.values())
