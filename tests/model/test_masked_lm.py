"""The masked-token LM family: model contract, iterative parallel decoding, masked objective."""

import math

import pytest
import torch

from tokensep_core.errors import ConfigError, RegistryError
from tokensep_core.interfaces import MaskedTokenLM
from tokensep_core.lm.masked_generation import cosine_masked, generate_parallel, level_passes
from tokensep_core.lm.masked_objective import mask_codes, masked_loss
from tokensep_core.lm.sampling import SamplingConfig
from tokensep_core.plugins import load_registry
from tokensep_core.registry import ComponentRegistry, Provider
from tokensep_core.testing import check_registered
from tokensep_lms.masked import MaskedLM, MaskedLMConfig

STEMS = ("vocals", "drums", "bass", "other")


def tiny(**overrides) -> MaskedLM:
    params = {"preset": "tiny", "num_codebooks": 3, "codebook_size": 16, **overrides}
    torch.manual_seed(0)
    return MaskedLM(MaskedLMConfig(**params)).eval()


def _prefix(batch=2, steps=5, dim=32, seed=1):
    return torch.randn(batch, steps, dim, generator=torch.Generator().manual_seed(seed))


def count_calls(lm: MaskedLM) -> list[torch.Tensor]:
    """Record the tokens of every forward."""
    seen: list[torch.Tensor] = []
    lm.register_forward_hook(lambda module, args, out: seen.append(args[0].clone()))
    return seen


def test_registered_masked_lm_conforms_and_registry_accepts_both_families() -> None:
    lm = check_registered("lm", "masked", {"preset": "tiny", "num_codebooks": 3, "codebook_size": 16})
    assert isinstance(lm, MaskedTokenLM) and lm.mask_id == 16 and lm.vocab_size == 17
    assert {"llama", "masked"} <= set(load_registry().names("lm"))
    registry = ComponentRegistry()
    with pytest.raises(RegistryError, match="does not implement LanguageModel"):
        registry.add("lm", "wrong", ConfigError, MaskedLMConfig, provider=Provider("test", "0"))


def test_logits_shapes_for_all_stems_a_subset_and_one_codebook() -> None:
    lm = tiny()
    tokens = torch.randint(0, 17, (2, 4, 3, 7), generator=torch.Generator().manual_seed(0))
    assert lm(tokens, _prefix()).shape == (2, 4, 3, 7, 16)
    assert lm(tokens[:, :2], _prefix(), stems=["bass", "vocals"], codebook=2).shape == (2, 2, 1, 7, 16)
    with pytest.raises(ValueError, match="piano"):
        lm(tokens[:, :1], _prefix(), stems=["piano"])


def test_generation_fills_every_code_in_range_for_the_requested_stems() -> None:
    lm = tiny()
    codes = generate_parallel(lm, _prefix(), 9, sampling=SamplingConfig(temperature=1.5), stems=["drums", "bass"], seed=0)
    assert list(codes) == ["drums", "bass"]
    for stem_codes in codes.values():
        assert stem_codes.shape == (2, 3, 9) and stem_codes.dtype == torch.long
        assert int(stem_codes.min()) >= 0 and int(stem_codes.max()) < lm.codebook_size  # no mask id left


def test_same_seed_same_codes_other_seed_other_codes() -> None:
    lm = tiny()
    sampling = SamplingConfig(temperature=1.5, top_k=8, top_p=0.95)
    first = generate_parallel(lm, _prefix(), 12, sampling=sampling, seed=3)
    again = generate_parallel(lm, _prefix(), 12, sampling=sampling, seed=3)
    other = generate_parallel(lm, _prefix(), 12, sampling=sampling, seed=4)
    assert all(torch.equal(first[s], again[s]) for s in STEMS)
    assert any(not torch.equal(first[s], other[s]) for s in STEMS)


@pytest.mark.parametrize("frames", [2, 11, 40])
def test_forward_count_is_the_configured_passes_whatever_the_length(frames) -> None:
    lm = tiny(passes=(4, 2))
    seen = count_calls(lm)
    generate_parallel(lm, _prefix(), frames, seed=0)
    assert len(seen) == 4 + 2 + 2 == sum(level_passes(lm.passes, lm.num_codebooks))
    seen.clear()
    generate_parallel(lm, _prefix(), frames, seed=0, passes=[3])
    assert len(seen) == 9


def test_each_pass_follows_the_cosine_schedule_coarse_to_fine() -> None:
    lm = tiny(passes=(4, 1))
    seen = count_calls(lm)
    frames = 20
    codes = generate_parallel(lm, _prefix(batch=1), frames, seed=0)
    masked = [(tokens == lm.mask_id)[0, 0].sum(-1).tolist() for tokens in seen]  # per pass: masked per level
    expected_level0 = [frames] + [cosine_masked(i, 4, frames) for i in range(1, 4)]
    assert [m[0] for m in masked[:4]] == expected_level0
    assert all(m[1:] == [frames, frames] for m in masked[:4]), "finer levels stay masked"
    assert masked[4] == [0, frames, frames] and masked[5] == [0, 0, frames]
    assert all((c < lm.codebook_size).all() for c in codes.values())


def test_guidance_doubles_the_batch_and_changes_the_draws() -> None:
    lm = tiny(passes=(2, 1))
    seen = count_calls(lm)
    greedy = SamplingConfig(greedy=True)
    plain = generate_parallel(lm, _prefix(), 6, sampling=greedy)
    assert seen[0].shape[0] == 2
    seen.clear()
    guided = generate_parallel(lm, _prefix(), 6, sampling=SamplingConfig(greedy=True, cfg_scale=3.0))
    assert seen[0].shape[0] == 4 and len(seen) == 4
    assert all((c < lm.codebook_size).all() for c in guided.values())
    assert any(not torch.equal(plain[s], guided[s]) for s in STEMS)


def test_bad_passes_are_a_config_error() -> None:
    with pytest.raises(ConfigError, match="passes"):
        generate_parallel(tiny(), _prefix(), 4, passes=[2, 0])


def test_mask_codes_hides_finer_levels_and_a_cosine_share_of_the_drawn_one() -> None:
    codes = torch.randint(0, 16, (64, 4, 3, 10), generator=torch.Generator().manual_seed(0))
    inputs, targets = mask_codes(codes, 16, torch.Generator().manual_seed(1))
    hidden = inputs == 16
    assert torch.equal(inputs[~hidden], codes[~hidden])
    assert (targets <= hidden).all(), "loss only where the input is masked"
    per_level = targets.sum(-1)  # [B, N, K]
    assert ((per_level > 0).sum(-1) == 1).all(), "exactly one level carries loss per row"
    level = per_level.argmax(-1)  # [B, N]
    for b, n in [(0, 0), (5, 2), (63, 3)]:
        k = int(level[b, n])
        assert not hidden[b, n, :k].any() and hidden[b, n, k + 1 :].all()
    shares = targets.sum(dim=(-1, -2)).float() / 10
    assert shares.min() >= 0.1 and 0.5 < shares.mean() < 0.75  # E[cos(pi u / 2)] = 2 / pi


def test_masked_loss_weights_and_their_validation() -> None:
    lm = tiny()
    codes = {s: torch.randint(0, 16, (2, 3, 6), generator=torch.Generator().manual_seed(i)) for i, s in enumerate(STEMS)}
    loss = masked_loss(lm, codes, _prefix(), label_smoothing=0.1, generator=torch.Generator().manual_seed(0))
    assert math.isfinite(loss.item()) and loss.item() > 0
    with pytest.raises(ConfigError, match="codebook_weights"):
        masked_loss(lm, codes, _prefix(), codebook_weights={3: 1.0})
    with pytest.raises(ConfigError, match="stem_weights"):
        masked_loss(lm, codes, _prefix(), stem_weights={"piano": 1.0})
    # stems are independent sequences: with the others weighted 0, their codes cannot matter
    only_vocals = {s: 0.0 for s in STEMS[1:]}
    silenced = masked_loss(lm, codes, _prefix(), stem_weights=only_vocals, generator=torch.Generator().manual_seed(0))
    others = {s: (c + 1) % 16 if s != "vocals" else c for s, c in codes.items()}
    changed = masked_loss(lm, others, _prefix(), stem_weights=only_vocals, generator=torch.Generator().manual_seed(0))
    unweighted = masked_loss(lm, others, _prefix(), generator=torch.Generator().manual_seed(0))
    assert torch.allclose(silenced, changed, atol=1e-6) and not torch.allclose(changed, unweighted, atol=1e-3)


def test_trained_tiny_masked_lm_regenerates_its_training_codes() -> None:
    """Masked training and parallel decoding agree on levels, masking and stem order."""
    lm = tiny(width=64, num_codebooks=2, codebook_size=8, passes=(3, 1)).train()
    codes = {s: torch.randint(0, 8, (2, 2, 6), generator=torch.Generator().manual_seed(i)) for i, s in enumerate(STEMS)}
    prefix = _prefix(batch=2, steps=4, dim=64)
    optimizer = torch.optim.AdamW(lm.parameters(), lr=3e-3)
    generator = torch.Generator().manual_seed(0)
    losses = []
    for _ in range(250):
        loss = masked_loss(lm, codes, prefix, generator=generator)
        losses.append(loss.item())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    assert sum(losses[-5:]) / 5 < 0.01 * losses[0]
    generated = generate_parallel(lm, prefix, 6, sampling=SamplingConfig(greedy=True))
    for stem in STEMS:
        assert torch.equal(generated[stem], codes[stem]), stem
