"""Contract checks any component (built-in or a plugin's) can be put through in its tests.

Each ``check_*`` raises :class:`ConformanceError` (an AssertionError) naming the broken contract.
``check_registered(kind, name, params)`` builds a component from the registry twice under one
seed and runs the checks for its kind, including determinism.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import Tensor

from tokensep_core.interfaces import (
    CodebookPattern,
    Codec,
    ConditionEncoder,
    LanguageModel,
    MaskedTokenLM,
    Metric,
    Separator,
    TokenLM,
    TrackOrder,
)
from tokensep_core.lm.family import LMFamily


class ConformanceError(AssertionError):
    """A component breaks its kind's contract."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConformanceError(message)


def _noise(shape: tuple[int, ...], seed: int) -> Tensor:
    return 0.1 * torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def check_codec(codec: Codec, seconds: float = 0.5, seed: int = 0) -> None:
    """encode/decode shapes, code range and dtype, finite output, determinism, batch independence."""
    for attr in ("sample_rate", "channels", "frame_rate", "num_codebooks", "codebook_size"):
        _require(hasattr(codec, attr), f"codec {type(codec).__name__} lacks attribute {attr!r}")
    codec.eval()
    hop = codec.hop_length
    length = round(seconds * codec.sample_rate) + hop // 3  # deliberately not a multiple of the hop
    wav = _noise((2, codec.channels, length), seed)
    with torch.inference_mode():
        codes = codec.encode(wav)
        frames = math.ceil(length / hop)
        _require(
            codes.shape == (2, codec.num_codebooks, frames),
            f"encode: expected codes [2, {codec.num_codebooks}, {frames}], got {list(codes.shape)}",
        )
        _require(codes.dtype == torch.int64, f"encode: codes must be int64, got {codes.dtype}")
        _require(int(codes.min()) >= 0 and int(codes.max()) < codec.codebook_size, "encode: codes outside [0, codebook_size)")
        _require(torch.equal(codec.encode(wav), codes), "encode is not deterministic in eval mode")
        _require(torch.equal(codec.encode(wav[1:]), codes[1:]), "encode of one item differs from the same item in a batch")
        decoded = codec.decode(codes)
        _require(
            decoded.shape == (2, codec.channels, frames * hop),
            f"decode: expected wav [2, {codec.channels}, {frames * hop}], got {list(decoded.shape)}",
        )
        _require(bool(torch.isfinite(decoded).all()), "decode produced NaN or Inf")


def check_encoder(encoder: ConditionEncoder, seconds: float = 1.0, seed: int = 0) -> None:
    """prepare/forward shapes, mask dtype, prefix length consistent with ``frame_rate``."""
    for attr in ("sample_rate", "channels", "output_dim", "frame_rate"):
        _require(hasattr(encoder, attr), f"encoder {type(encoder).__name__} lacks attribute {attr!r}")
    encoder.eval()
    wav = _noise((2, encoder.channels, round(seconds * encoder.sample_rate)), seed)
    with torch.inference_mode():
        embeds, mask = encoder(encoder.prepare(wav))
        _require(
            embeds.dim() == 3 and embeds.shape[0] == 2 and embeds.shape[2] == encoder.output_dim,
            f"forward: expected embeds [2, P, {encoder.output_dim}], got {list(embeds.shape)}",
        )
        _require(
            mask.shape == embeds.shape[:2] and mask.dtype == torch.bool,
            f"forward: mask must be bool [2, P], got {mask.dtype} {list(mask.shape)}",
        )
        expected = seconds * encoder.frame_rate
        _require(
            abs(embeds.shape[1] - expected) <= max(2, 0.05 * expected),
            f"prefix has {embeds.shape[1]} steps for {seconds} s at frame_rate {encoder.frame_rate:g}",
        )
        _require(bool(torch.isfinite(embeds).all()), "forward produced NaN or Inf")
        again, _ = encoder(encoder.prepare(wav))
        _require(torch.allclose(again, embeds), "encoder is not deterministic in eval mode")


def check_lm(lm: LanguageModel, steps: int = 6, prefix_steps: int = 5, seed: int = 0) -> None:
    """The attributes every LM declares, then its family's checks (``lm.family.check``)."""
    for attr in ("family", "num_codebooks", "codebook_size", "vocab_size", "dim"):
        _require(hasattr(lm, attr), f"lm {type(lm).__name__} lacks attribute {attr!r}")
    _require(isinstance(lm.family, LMFamily), f"lm {type(lm).__name__}: family {lm.family!r} is not an LMFamily")
    lm.family.check(lm, steps, prefix_steps, seed)


def check_token_lm(lm: TokenLM, steps: int = 6, prefix_steps: int = 5, seed: int = 0) -> None:
    """logits shape, cache length, incremental (cached) decoding equal to a full forward, and
    where the LM implements ``select_cache`` its selected rows equal to each row's own prefix."""
    _require(lm.vocab_size >= lm.codebook_size, "vocab_size must include the codebook ids")
    lm.eval()
    generator = torch.Generator().manual_seed(seed)
    tokens = torch.randint(0, lm.vocab_size, (2, lm.num_codebooks, steps), generator=generator)
    prefix = torch.randn((2, prefix_steps, lm.dim), generator=generator)
    mask = torch.ones(2, prefix_steps, dtype=torch.bool)
    with torch.inference_mode():
        logits, cache = lm(tokens, prefix=prefix, prefix_mask=mask)
        _require(
            logits.shape == (2, lm.num_codebooks, steps, lm.codebook_size),
            f"forward: expected logits [2, {lm.num_codebooks}, {steps}, {lm.codebook_size}], got {list(logits.shape)}",
        )
        _require(cache.length == prefix_steps + steps, f"cache holds {cache.length} positions, expected {prefix_steps + steps}")
        head, cache = lm(tokens[..., :-2], prefix=prefix, prefix_mask=mask)
        tail_logits = []
        for t in range(steps - 2, steps):
            step_logits, cache = lm(tokens[..., t : t + 1], cache=cache)
            tail_logits.append(step_logits)
        incremental = torch.cat([head, *tail_logits], dim=2)
        error = (incremental - logits).abs().max().item()
        _require(error < 1e-3, f"cached decoding differs from a full forward by {error:.2e}")
        if lm.selects_cache:  # optional: rows of a cache, repeats allowed
            rows = torch.tensor([1, 0, 1])
            _, shared = lm(tokens[..., :0], prefix=prefix, prefix_mask=mask)
            picked, _ = lm(tokens[rows, :, :1], cache=lm.select_cache(shared, rows))
            error = (picked - logits[rows, :, :1]).abs().max().item()
            _require(error < 1e-3, f"select_cache: a selected prefix cache differs from each row's own prefix by {error:.2e}")


def check_masked_lm(lm: MaskedTokenLM, steps: int = 6, prefix_steps: int = 5, seed: int = 0) -> None:
    """logits shape for all stems and a subset, one codebook's logits equal to the full ones',
    an item's logits independent of the batch and of prefix padding next to it."""
    for attr in ("num_codebooks", "codebook_size", "vocab_size", "dim", "stems", "mask_id", "passes"):
        _require(hasattr(lm, attr), f"lm {type(lm).__name__} lacks attribute {attr!r}")
    _require(lm.codebook_size <= lm.mask_id < lm.vocab_size, "mask_id must be a non-code id below vocab_size")
    _require(len(lm.passes) > 0 and min(lm.passes) >= 1, f"passes must be counts >= 1, got {lm.passes}")
    lm.eval()
    generator = torch.Generator().manual_seed(seed)
    stems = len(lm.stems)
    tokens = torch.randint(0, lm.codebook_size, (2, stems, lm.num_codebooks, steps), generator=generator)
    tokens[..., ::2] = lm.mask_id
    prefix = torch.randn((2, prefix_steps, lm.dim), generator=generator)
    mask = torch.ones(2, prefix_steps, dtype=torch.bool)
    mask[1, -2:] = False
    with torch.inference_mode():
        logits = lm(tokens, prefix, mask)
        _require(
            logits.shape == (2, stems, lm.num_codebooks, steps, lm.codebook_size),
            f"forward: expected logits [2, {stems}, {lm.num_codebooks}, {steps}, {lm.codebook_size}], got {list(logits.shape)}",
        )
        _require(bool(torch.isfinite(logits).all()), "forward produced NaN or Inf")
        last = lm.num_codebooks - 1
        one = lm(tokens, prefix, mask, codebook=last)
        _require(
            one.shape == (2, stems, 1, steps, lm.codebook_size),
            f"forward(codebook=...): expected [2, {stems}, 1, {steps}, {lm.codebook_size}], got {list(one.shape)}",
        )
        _require(torch.allclose(one[:, :, 0], logits[:, :, last], atol=1e-4), "one codebook's logits differ from the full forward's")
        subset = lm(tokens[:, :1], prefix, mask, stems=lm.stems[:1])
        _require(subset.shape[1] == 1, f"forward for one stem returned {subset.shape[1]} stems")
        alone = lm(tokens[1:], prefix[1:, :-2], mask[1:, :-2])
        error = (alone - logits[1:]).abs().max().item()
        _require(error < 1e-3, f"an item's logits change by {error:.2e} with its batch neighbour or prefix padding")


def check_pattern(pattern: CodebookPattern, num_codebooks: int = 3, num_frames: int = 7, codebook_size: int = 1000) -> None:
    """build/revert round trip and ``num_steps``."""
    codes = torch.randint(0, codebook_size, (2, num_codebooks, num_frames), generator=torch.Generator().manual_seed(0))
    pad_id = pattern.code_vocab(num_codebooks, codebook_size)
    steps = pattern.build(codes, codebook_size, pad_id)
    _require(
        steps.shape[-1] == pattern.num_steps(num_frames, num_codebooks),
        f"build made {steps.shape[-1]} steps, num_steps says {pattern.num_steps(num_frames, num_codebooks)}",
    )
    _require(torch.equal(pattern.revert(steps, num_codebooks, codebook_size), codes), "revert(build(codes)) != codes")


def check_track_order(order: TrackOrder, stems: tuple[str, ...] = ("vocals", "drums", "bass", "other")) -> None:
    """combine/split round trip."""
    generator = torch.Generator().manual_seed(0)
    stem_steps = {stem: torch.randint(0, 100, (2, 3, 5), generator=generator) for stem in stems}
    start_ids = {stem: 100 + i for i, stem in enumerate(stems)}
    sequences, layout = order.combine(stem_steps, start_ids)
    back = order.split(sequences, layout)
    _require(set(back) == set(stems), f"split returned stems {sorted(back)}, expected {sorted(stems)}")
    for stem in stems:
        _require(torch.equal(back[stem], stem_steps[stem]), f"split(combine(x))[{stem!r}] != x[{stem!r}]")


def check_metric(metric: Metric, sample_rate: int = 16000, seed: int = 0) -> None:
    """A finite float; a perfect estimate scores at least as well as a noisy one."""
    t = torch.arange(sample_rate) / sample_rate
    reference = torch.stack([torch.sin(2 * math.pi * 220 * t), torch.sin(2 * math.pi * 330 * t)]) * 0.5
    noisy = reference + _noise(tuple(reference.shape), seed) * 3
    perfect, degraded = metric(reference, reference.clone(), sample_rate), metric(reference, noisy, sample_rate)
    _require(isinstance(perfect, float) and isinstance(degraded, float), "a metric must return a float")
    _require(math.isfinite(degraded), f"metric {metric.name} is not finite on a noisy estimate")
    better = perfect >= degraded if metric.higher_is_better else perfect <= degraded
    _require(better, f"metric {metric.name} rates a noisy estimate ({degraded:.3f}) over a perfect one ({perfect:.3f})")


def check_separator(separator: Separator, sample_rate: int = 44100, channels: int = 2, seconds: float = 1.0) -> None:
    """Every stem returned at the input's sample rate, channel count and length."""
    mixture = _noise((channels, round(seconds * sample_rate)), 0)
    stems = separator.separate(mixture, sample_rate)
    _require(set(stems) == set(separator.stems), f"separate returned {sorted(stems)}, expected {sorted(separator.stems)}")
    for stem, wav in stems.items():
        _require(wav.shape == mixture.shape, f"stem {stem!r} has shape {list(wav.shape)}, the mixture {list(mixture.shape)}")


CHECKS: dict[str, Callable[..., None]] = {
    "codec": check_codec,
    "encoder": check_encoder,
    "lm": check_lm,
    "pattern": check_pattern,
    "track_order": check_track_order,
    "metric": check_metric,
    "separator": check_separator,
}


def check_registered(kind: str, name: str, params: Mapping[str, Any] | None = None, seed: int = 0) -> Any:
    """Build ``(kind, name)`` from the registry twice under ``seed``; check determinism under the
    seed and the kind's contract. Returns the first build."""
    from tokensep_core.plugins import load_registry

    registry = load_registry()
    spec = {"name": name, "params": dict(params or {})}
    torch.manual_seed(seed)
    first = registry.build(kind, spec)
    torch.manual_seed(seed)
    second = registry.build(kind, spec)
    if isinstance(first, torch.nn.Module):
        a, b = first.state_dict(), second.state_dict()
        _require(
            a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a),
            f"{kind} {name!r}: two builds under seed {seed} have different weights",
        )
    if kind in CHECKS:
        CHECKS[kind](first)
    return first
