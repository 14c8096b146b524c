"""The speed benchmark's helpers and the inference speed options (bf16, preallocated cache)."""

import pytest
import torch

from tests.conftest import load_script
from tokensep_core.runtime.precision import inference_precision, packed_linears
from tokensep_core.separation.pipeline import PipelineConfig
from tokensep_core.separation.separator import GenerativeSeparator, InferenceConfig
from tokensep_lms.llama import LlamaLM, LlamaLMConfig


@pytest.fixture(scope="module")
def speed():
    return load_script("benchmarks/speed.py", "speed_benchmark")


def tiny_separator(**inference) -> GenerativeSeparator:
    config = PipelineConfig.model_validate(
        {"codec": {"name": "debug"}, "encoder": {"name": "debug"}, "lm": {"name": "llama", "params": {"preset": "tiny"}}}
    )
    return GenerativeSeparator.build(config, inference=InferenceConfig(**inference), device="cpu")


@pytest.mark.parametrize("stereo", ["per_channel", "mid"])
def test_separator_batch_matches_the_generation_calls_made(speed, stereo) -> None:
    separator = tiny_separator(segment_seconds=0.25, overlap=0.25, batch_size=3, stereo=stereo)
    seen = []
    inner = separator._separate_segments
    separator._separate_segments = lambda segments, *rest: seen.append(segments.shape[0]) or inner(segments, *rest)
    seconds = 1.0
    separator.separate(0.1 * torch.randn(2, 16000, generator=torch.Generator().manual_seed(0)), 16000, stems=["vocals"])
    batch, calls = speed.separator_batch(separator, seconds)
    assert (max(seen), len(seen)) == (batch, calls)


def test_kv_cache_bytes_equal_the_keys_and_values_the_decode_steps_attend_over(speed, monkeypatch) -> None:
    import tokensep_lms.llama as llama

    separator = tiny_separator(segment_seconds=0.25, overlap=0.25, batch_size=3)
    read = []
    attend = llama.F.scaled_dot_product_attention

    def counting(q, k, v, **kwargs):
        if q.shape[-2] == 1:  # a decode step (the prefix call attends with every prefix position at once)
            read.append(k.numel() * k.element_size() + v.numel() * v.element_size())
        return attend(q, k, v, **kwargs)

    monkeypatch.setattr(llama.F, "scaled_dot_product_attention", counting)
    separator.separate(0.1 * torch.randn(2, speed.SAMPLE_RATE, generator=torch.Generator().manual_seed(0)), speed.SAMPLE_RATE)
    assert sum(read) > 0 and speed.kv_cache_bytes(separator, 1.0, "float32") == sum(read)


def test_time_separation_splits_the_wall_time_and_leaves_the_separator_as_it_was(speed, monkeypatch) -> None:
    monkeypatch.setattr(speed, "SAMPLE_RATE", 16000)
    separator = tiny_separator(segment_seconds=0.25, overlap=0.25)
    wall, parts = speed.time_separation(separator, 0.5)
    assert set(parts) == {"encoder", "LM", "codec decode"} and all(t > 0 for t in parts.values())
    assert sum(parts.values()) <= wall
    assert "generate" not in vars(separator.pipeline.lm.family)
    assert "forward" not in vars(separator.pipeline.encoder) and "decode" not in vars(separator.pipeline.codec)


def test_variant_lists_are_checked(speed) -> None:
    assert speed._variants("sequential,interleaved") == ["sequential", "interleaved"]
    for bad in ("", "sequential,fast"):
        with pytest.raises(SystemExit):
            speed._variants(bad)


def test_weight_bytes_leave_out_the_embedding_tables(speed) -> None:
    lm = LlamaLM(LlamaLMConfig(preset="tiny", num_codebooks=2, codebook_size=16, num_special_tokens=2))
    total = sum(p.numel() * 4 for p in lm.parameters())
    embedding = sum(p.numel() * 4 for p in lm.embed.parameters())
    assert embedding > 0 and speed.weight_bytes_per_step(lm) == total - embedding


def test_decode_rate_and_bandwidth_are_positive(speed) -> None:
    lm = LlamaLM(LlamaLMConfig(preset="tiny", num_codebooks=2, codebook_size=16, num_special_tokens=2)).eval()
    assert speed.decode_rate(lm, 2, 3, 4, torch.device("cpu"), "float32") > 0
    assert speed.read_bandwidth(torch.device("cpu"), megabytes=8, repeats=2) > 1e6


def test_ops_per_step_counts_the_ops_of_one_decode_step_and_grows_with_layers(speed) -> None:
    def ops(layers: int) -> int:
        config = LlamaLMConfig(preset="tiny", layers=layers, num_codebooks=2, codebook_size=16, num_special_tokens=2)
        return speed.ops_per_step(LlamaLM(config).eval(), 3, torch.device("cpu"), "float32")

    one, two, three = ops(1), ops(2), ops(3)
    assert 0 < one < two < three and three - two == two - one  # every layer adds the same ops


def test_bfloat16_logits_stay_close_to_float32() -> None:
    """Stated tolerance, for bf16 weights + autocast (+ packed linear layers where oneDNN has
    bf16) as the separator runs them: logits within
    0.15 of fp32 (logit std ≈ 1) and the same top-1 code at ≥ 95% of positions, for the prefix
    call and cached steps."""
    torch.manual_seed(0)
    lm = LlamaLM(LlamaLMConfig(preset="small", layers=2, num_codebooks=4, codebook_size=64, num_special_tokens=4)).eval()
    g = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, 64, (2, 4, 12), generator=g)
    prefix = torch.randn(2, 6, lm.dim, generator=g)

    def run(low: bool) -> torch.Tensor:
        with torch.no_grad(), inference_precision(lm, "bfloat16" if low else "float32", torch.device("cpu")):
            logits, cache = lm(tokens[..., :4], prefix)
            pieces = [logits]
            for t in range(4, 12):
                logits, cache = lm(tokens[..., t : t + 1], cache=cache)
                pieces.append(logits)
        return torch.cat(pieces, dim=2).float()

    exact, low = run(False), run(True)
    assert 0 < (exact - low).abs().max() < 0.15
    assert (exact.argmax(-1) == low.argmax(-1)).float().mean() >= 0.95


@pytest.mark.parametrize("lm", ["llama", "masked"])
@pytest.mark.parametrize("dtype, expected", [("float32", torch.float32), ("bfloat16", torch.bfloat16)])
def test_separation_computes_the_lm_in_the_configured_dtype(dtype, expected, lm) -> None:
    config = PipelineConfig.model_validate(
        {"codec": {"name": "debug"}, "encoder": {"name": "debug"}, "lm": {"name": lm, "params": {"preset": "tiny"}}}
    )
    separator = GenerativeSeparator.build(config, inference=InferenceConfig(segment_seconds=0.25, dtype=dtype), device="cpu")
    seen = set()
    separator.pipeline.lm.register_forward_hook(lambda module, args, out: seen.add((out[0] if isinstance(out, tuple) else out).dtype))
    mixture = 0.1 * torch.randn(2, 8000, generator=torch.Generator().manual_seed(3))
    stems = separator.separate(mixture, 16000, stems=["vocals"])["vocals"]
    assert seen == {expected}
    assert stems.shape == mixture.shape and stems.dtype == torch.float32 and torch.isfinite(stems).all()


def test_length_lists_are_sorted_and_checked(speed) -> None:
    assert speed._lengths("600,30,120") == (30.0, 120.0, 600.0)
    for bad in ("60", "a,b", "0,10"):
        with pytest.raises(SystemExit):
            speed._lengths(bad)


def test_packed_linears_compute_what_plain_bf16_linears_do_and_are_undone() -> None:
    torch.manual_seed(0)
    model = torch.nn.Sequential(torch.nn.Linear(64, 96), torch.nn.SiLU(), torch.nn.Linear(96, 32, bias=False)).to(torch.bfloat16)
    x = torch.randn(3, 5, 64, dtype=torch.bfloat16)
    with torch.no_grad():
        plain = model(x).float()
        with packed_linears(model) as count:
            packed = model(x).float()
        after = model(x).float()
    if count == 0:
        pytest.skip("oneDNN has no bfloat16 support on this CPU")
    assert count == 2 and "forward" not in vars(model[0])
    assert 0 < (plain - packed).abs().max() < 0.05 or torch.equal(plain, packed)
    assert torch.equal(after, plain)


def test_float32_weights_are_never_packed() -> None:
    model = torch.nn.Linear(8, 8)
    with packed_linears(model) as count:
        assert count == 0


def test_variant_none_times_only_the_trained_models(speed) -> None:
    assert speed._variants("none") == [] and speed._models(" separator-small, ") == ["separator-small"]
    report = speed.run(speed.parse(["--only", "rtf", "--variant", "none", "--model", "separator-small", "--seconds", "0.5"]))
    rows = [line for line in report.splitlines() if line.startswith("| tokensep")]
    assert len(rows) == 1 and rows[0].startswith("| tokensep model separator-small RTF |")
    assert float(rows[0].split("|")[2]) > 0


def test_variant_none_refuses_the_sections_that_need_a_variant(speed) -> None:
    with pytest.raises(SystemExit, match="decode"):
        speed.run(speed.parse(["--only", "rtf,decode", "--variant", "none"]))
