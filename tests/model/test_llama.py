import pytest
import torch
from pydantic import ValidationError

from tokensep_core.interfaces import parameter_count
from tokensep_lms.debug import DebugLM, DebugLMConfig
from tokensep_lms.llama import LlamaCache, LlamaLM, LlamaLMConfig


def tiny(**overrides) -> LlamaLM:
    params = {"preset": "tiny", "num_codebooks": 3, "codebook_size": 16, "num_special_tokens": 5, **overrides}
    torch.manual_seed(0)
    return LlamaLM(LlamaLMConfig(**params)).eval()


def _inputs(lm, batch=2, steps=9, prefix_steps=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, lm.vocab_size, (batch, lm.num_codebooks, steps), generator=g)
    prefix = torch.randn(batch, prefix_steps, lm.dim, generator=g)
    return tokens, prefix


def test_output_shapes_and_cache_length() -> None:
    lm = tiny()
    tokens, prefix = _inputs(lm)
    logits, cache = lm(tokens, prefix)
    assert logits.shape == (2, 3, 9, 16)
    assert isinstance(cache, LlamaCache) and cache.length == 5 + 9


@pytest.mark.parametrize(
    "lm",
    [tiny(), tiny(kv_heads=1, prefix_dim=24), DebugLM(DebugLMConfig(num_codebooks=3, codebook_size=16))],
    ids=["llama", "llama-gqa-adapter", "debug"],
)
def test_cached_logits_equal_uncached(lm) -> None:
    lm.eval()
    tokens, prefix = _inputs(lm)
    mask = torch.ones(2, 5, dtype=torch.bool)
    mask[1, 3:] = False
    full, _ = lm(tokens, prefix, mask)
    logits, cache = lm(tokens[..., :3], prefix, mask)
    pieces = [logits]
    for t in range(3, 9):  # one step at a time, then the rest could come in any chunking
        logits, cache = lm(tokens[..., t : t + 1], cache=cache)
        pieces.append(logits)
    assert (torch.cat(pieces, dim=2) - full).abs().max() < 1e-4
    assert cache.length == 5 + 9


def test_multi_step_cache_chunks_agree() -> None:
    lm = tiny()
    tokens, prefix = _inputs(lm)
    full, _ = lm(tokens, prefix)
    first, cache = lm(tokens[..., :2], prefix)
    second, _ = lm(tokens[..., 2:], cache=cache)
    assert (torch.cat([first, second], dim=2) - full).abs().max() < 1e-4


def test_prefix_influences_logits() -> None:
    lm = tiny()
    tokens, prefix = _inputs(lm)
    a, _ = lm(tokens, prefix)
    b, _ = lm(tokens, prefix + torch.randn_like(prefix))
    assert (a - b).abs().max() > 1e-3


def test_padded_prefix_steps_are_ignored() -> None:
    lm = tiny()
    tokens, prefix = _inputs(lm, batch=1)
    mask = torch.tensor([[True, True, True, False, False]])
    padded, _ = lm(tokens, prefix, mask)
    garbage = prefix.clone()
    garbage[:, 3:] = 100.0
    other, _ = lm(tokens, garbage, mask)
    alone, _ = lm(tokens, prefix[:, :3])
    assert (padded - other).abs().max() < 1e-5
    assert (padded - alone).abs().max() < 1e-4


def test_grouped_query_attention_builds_with_fewer_kv_parameters() -> None:
    full, gqa = tiny(width=64, heads=4), tiny(width=64, heads=4, kv_heads=1)
    assert parameter_count(gqa) < parameter_count(full)
    tokens, prefix = _inputs(gqa)
    logits, _ = gqa(tokens, prefix)
    assert torch.isfinite(logits).all()


def test_explicit_fields_override_the_preset() -> None:
    lm = tiny(layers=3, width=48, heads=4)
    assert lm.width == 48 and len(lm.decoder.layers) == 3 * 2


def test_bad_head_split_is_a_config_error() -> None:
    with pytest.raises(ValidationError, match="divisible"):
        LlamaLMConfig(preset="tiny", width=30, heads=4)


def test_special_ids_are_inputs_but_not_outputs() -> None:
    lm = tiny()
    assert lm.vocab_size == 16 + 5
    tokens = torch.full((1, 3, 2), lm.vocab_size - 1)
    logits, _ = lm(tokens)
    assert logits.shape[-1] == lm.codebook_size


def test_backward_reaches_prefix_adapter_and_embeddings() -> None:
    lm = tiny(prefix_dim=24).train()
    tokens, prefix = _inputs(lm)
    logits, _ = lm(tokens, prefix)
    logits.logsumexp(-1).mean().backward()
    assert lm.prefix_adapter.weight.grad.abs().sum() > 0
    assert lm.embed.tables[0].weight.grad.abs().sum() > 0


def test_paper_preset_builds_and_runs_one_short_forward(capsys) -> None:
    torch.manual_seed(0)
    lm = LlamaLM(LlamaLMConfig(preset="paper", num_codebooks=8, codebook_size=1024)).eval()
    assert (lm.width, len(lm.decoder.layers) // 2) == (512, 12)
    count = parameter_count(lm)
    with capsys.disabled():
        print(f"\nllama paper preset (K=8, 1024 codes): {count:,} parameters")
    assert 40e6 < count < 80e6
    with torch.no_grad():
        logits, cache = lm(torch.zeros(1, 8, 2, dtype=torch.long), torch.randn(1, 3, 512))
    assert logits.shape == (1, 8, 2, 1024) and cache.length == 5


def test_a_cache_can_be_reused_after_it_was_extended() -> None:
    lm = tiny()
    tokens, prefix = _inputs(lm)
    _, cache = lm(tokens[..., :4], prefix)
    first, longer = lm(tokens[..., 4:5], cache=cache)
    lm(tokens[..., 5:6], cache=longer)
    again, _ = lm(tokens[..., 4:5], cache=cache)
    assert torch.equal(first, again) and cache.length == 9


def test_llama_style_blocks_have_no_biases() -> None:
    assert not [name for name, _ in tiny().named_parameters() if name.endswith("bias")]


def test_cache_grows_past_its_preallocated_block() -> None:
    from tokensep_lms.llama import CACHE_BLOCK

    lm = tiny()
    tokens, prefix = _inputs(lm, batch=1, steps=CACHE_BLOCK + 20, prefix_steps=3)
    full, _ = lm(tokens, prefix)
    logits, cache = lm(tokens[..., :2], prefix)
    pieces = [logits]
    for t in range(2, tokens.shape[-1]):
        logits, cache = lm(tokens[..., t : t + 1], cache=cache)
        pieces.append(logits)
    assert cache.storage.keys.shape[3] == 2 * CACHE_BLOCK and cache.length == 3 + CACHE_BLOCK + 20
    assert (torch.cat(pieces, dim=2) - full).abs().max() < 1e-4


def test_an_unextended_cache_allocates_no_storage() -> None:
    lm = tiny()
    tokens, prefix = _inputs(lm)
    _, cache = lm(tokens, prefix)  # a training forward: its cache is never extended
    assert cache.storage is None and cache.pending is not None
    _, longer = lm(tokens[..., :1], cache=cache)
    assert cache.storage is longer.storage and cache.storage.keys.shape[:2] == (2, 2)


def test_rotary_frequencies_stay_float32_in_bfloat16() -> None:
    """A bfloat16 LM keeps float32 rotary frequencies, so positions past 256 are not rounded:
    its cached logits at position ~300 follow the float32 LM's."""
    lm32 = tiny()
    lm16 = tiny().to(torch.bfloat16)
    assert lm16.decoder.rotary_pos_emb.inv_freq.dtype == torch.float32
    assert lm16.embed.parameters().__next__().dtype == torch.bfloat16
    tokens, prefix = _inputs(lm32, batch=1, steps=300, prefix_steps=2)
    outs = []
    for lm in (lm32, lm16):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=lm is lm16):
            _, cache = lm(tokens[..., :-1], prefix)
            logits, _ = lm(tokens[..., -1:], cache=cache)  # cached step: rotary tables at position 300
        outs.append(logits.float())
    assert (outs[0] - outs[1]).abs().max() < 0.1 * outs[0].abs().max()
