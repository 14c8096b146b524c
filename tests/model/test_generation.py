import pytest
import torch

from tokensep_core.errors import ConfigError
from tokensep_core.interfaces import TokenLM
from tokensep_core.lm.ar_generation import generate
from tokensep_core.lm.ar_objective import null_condition
from tokensep_core.lm.sampling import SamplingConfig
from tokensep_core.tokens.layout import TokenLayout
from tokensep_core.tokens.patterns import DelayPattern, FlattenPattern, ParallelPattern
from tokensep_core.tokens.track_orders import IndependentOrder, InterleavedOrder, SequentialOrder
from tokensep_lms.debug import DebugLM, DebugLMConfig
from tokensep_lms.llama import LlamaLM, LlamaLMConfig

GREEDY = SamplingConfig(greedy=True)
PATTERNS = {"flatten": FlattenPattern(), "delay": DelayPattern(), "parallel": ParallelPattern()}
ORDERS = {"sequential": SequentialOrder(), "independent": IndependentOrder(), "interleaved": InterleavedOrder()}


def setup(pattern="delay", order="sequential", lm="llama", device="cpu"):
    layout = TokenLayout(PATTERNS[pattern], ORDERS[order], num_codebooks=2, codebook_size=8)
    torch.manual_seed(0)
    shape = {"num_codebooks": layout.lm_num_codebooks, "codebook_size": layout.code_vocab, "num_special_tokens": layout.special.count}
    model = LlamaLM(LlamaLMConfig(preset="tiny", **shape)) if lm == "llama" else DebugLM(DebugLMConfig(**shape))
    prefix = torch.randn(3, 4, model.dim, generator=torch.Generator().manual_seed(1))
    return model.to(device), layout, prefix.to(device)


@pytest.mark.parametrize("pattern", sorted(PATTERNS))
@pytest.mark.parametrize("order", sorted(ORDERS))
def test_every_pattern_and_order_yields_valid_codes(pattern, order) -> None:
    lm, layout, prefix = setup(pattern, order)
    codes = generate(lm, layout, prefix, num_frames=3, sampling=SamplingConfig(temperature=1.5), seed=0)
    assert set(codes) == set(ORDERS[order].stems)
    for c in codes.values():
        assert c.shape == (3, 2, 3) and c.dtype == torch.long
        assert c.min() >= 0 and c.max() < 8


def test_greedy_is_deterministic_and_leaves_training_mode_alone() -> None:
    lm, layout, prefix = setup()
    lm.train()
    a = generate(lm, layout, prefix, 4, sampling=GREEDY)
    b = generate(lm, layout, prefix, 4, sampling=GREEDY)
    assert lm.training
    assert all(torch.equal(a[s], b[s]) for s in a)


def test_seed_reproduces_and_different_seeds_differ() -> None:
    lm, layout, prefix = setup()
    config = SamplingConfig(temperature=2.0)
    a = generate(lm, layout, prefix, 6, sampling=config, seed=7)
    b = generate(lm, layout, prefix, 6, sampling=config, seed=7)
    c = generate(lm, layout, prefix, 6, sampling=config, seed=8)
    assert all(torch.equal(a[s], b[s]) for s in a)
    assert any(not torch.equal(a[s], c[s]) for s in a)


def test_top_k_one_equals_greedy() -> None:
    lm, layout, prefix = setup()
    greedy = generate(lm, layout, prefix, 5, sampling=GREEDY)
    top1 = generate(lm, layout, prefix, 5, sampling=SamplingConfig(top_k=1, temperature=0.7), seed=3)
    assert all(torch.equal(greedy[s], top1[s]) for s in greedy)


@pytest.mark.parametrize("lm_name", ["llama", "debug"])
def test_guidance_by_batch_doubling(lm_name) -> None:
    lm, layout, prefix = setup(lm=lm_name)
    guided = generate(lm, layout, prefix, 4, sampling=SamplingConfig(cfg_scale=3.0, top_k=4), seed=0)
    assert all(c.shape == (3, 2, 4) for c in guided.values())
    # scale 0 keeps only the null-condition half of the doubled batch
    only_null = generate(lm, layout, prefix, 4, sampling=SamplingConfig(greedy=True, cfg_scale=0.0))
    unguided_null = generate(lm, layout, null_condition(prefix), 4, sampling=GREEDY)
    assert all(torch.equal(only_null[s], unguided_null[s]) for s in only_null)


@pytest.mark.parametrize("order", sorted(ORDERS))
def test_batch_of_chunks_equals_each_chunk_alone(order) -> None:
    lm, layout, prefix = setup("delay", order)
    mask = torch.ones(3, 4, dtype=torch.bool)
    mask[2, 2:] = False  # the last chunk of a song is shorter
    together = generate(lm, layout, prefix, 4, prefix_mask=mask, sampling=GREEDY)
    for i in range(3):
        valid = int(mask[i].sum())
        alone = generate(lm, layout, prefix[i : i + 1, :valid], 4, sampling=GREEDY)
        assert all(torch.equal(together[s][i : i + 1], alone[s]) for s in alone)


@pytest.mark.parametrize("order", ["sequential", "independent"])
def test_only_requested_stems(order) -> None:
    lm, layout, prefix = setup("delay", order)
    full = generate(lm, layout, prefix, 4, sampling=GREEDY)
    some = generate(lm, layout, prefix, 4, sampling=GREEDY, stems=["drums"])
    assert set(some) == {"drums"}
    assert torch.equal(some["drums"], full["drums"])


def test_sequential_stops_after_the_last_requested_stem() -> None:
    lm, layout, prefix = setup("delay", "sequential")
    calls = []
    original = lm.forward

    def counting(*args, **kwargs):
        calls.append(1)
        return original(*args, **kwargs)

    lm.forward = counting
    generate(lm, layout, prefix, 4, sampling=GREEDY, stems=["vocals"])
    positions_per_stem = 1 + (4 + 2 - 1)  # start token + delayed steps
    assert len(calls) == positions_per_stem - 1  # every position but the last is fed
    calls.clear()
    generate(lm, layout, prefix, 4, sampling=GREEDY, stems=["bass"])
    assert len(calls) == 3 * positions_per_stem - 1


def test_mismatched_lm_is_a_config_error() -> None:
    lm, _, prefix = setup("delay", "sequential")
    other = TokenLayout(FlattenPattern(), SequentialOrder(), num_codebooks=2, codebook_size=8)
    with pytest.raises(ConfigError, match="codebooks"):
        generate(lm, other, prefix, 3)
    with pytest.raises(ConfigError, match="unknown stems"):
        generate(lm, TokenLayout(DelayPattern(), SequentialOrder(), 2, 8), prefix, 3, stems=["piano"])


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_runs_on_cuda() -> None:
    lm, layout, prefix = setup(device="cuda")
    codes = generate(lm, layout, prefix, 3, sampling=SamplingConfig(top_p=0.9), seed=0)
    assert all(c.device.type == "cuda" for c in codes.values())


def test_paper_preset_generates_with_random_weights() -> None:
    layout = TokenLayout(DelayPattern(), SequentialOrder(), num_codebooks=8, codebook_size=1024)
    torch.manual_seed(0)
    lm = LlamaLM(
        LlamaLMConfig(
            preset="paper",
            num_codebooks=layout.lm_num_codebooks,
            codebook_size=layout.code_vocab,
            num_special_tokens=layout.special.count,
        )
    )
    prefix = torch.randn(1, 3, lm.dim)
    sampling = SamplingConfig(temperature=0.8, top_k=50, top_p=0.95)
    codes = generate(lm, layout, prefix, num_frames=2, sampling=sampling, stems=["vocals"], seed=0)
    assert codes["vocals"].shape == (1, 8, 2) and 0 <= codes["vocals"].min() and codes["vocals"].max() < 1024


class _NoSelect(LlamaLM):
    """The same LM without cache selection: generation runs one prefix per row."""

    select_cache = TokenLM.select_cache


@pytest.mark.parametrize("cfg_scale", [1.0, 2.0])
def test_rows_that_share_a_prefix_share_one_prefix_call(cfg_scale, monkeypatch) -> None:
    lm, layout, prefix = setup("delay", "independent")
    plain = _NoSelect(lm.config).eval()
    plain.load_state_dict(lm.state_dict())
    mask = torch.ones(prefix.shape[:2], dtype=torch.bool)
    mask[1, :2] = False  # a padded chunk: the selected cache keeps its mask
    prefix_batches = []
    forward = LlamaLM.forward
    monkeypatch.setattr(
        LlamaLM,
        "forward",
        lambda self, tokens, prefix=None, *rest, **kw: (
            prefix_batches.append(None if prefix is None else prefix.shape[0]) or forward(self, tokens, prefix, *rest, **kw)
        ),
    )
    sampling = SamplingConfig(greedy=True, cfg_scale=cfg_scale)
    shared = generate(lm, layout, prefix, 4, mask, sampling)
    rows = 3 * 4 * (2 if cfg_scale != 1.0 else 1)  # 3 chunks x 4 stems (x 2 with guidance)
    assert [b for b in prefix_batches if b is not None] == [rows // 4]
    prefix_batches.clear()
    alone = generate(plain, layout, prefix, 4, mask, sampling)
    assert [b for b in prefix_batches if b is not None] == [rows]
    assert all(torch.equal(shared[s], alone[s]) for s in shared)
