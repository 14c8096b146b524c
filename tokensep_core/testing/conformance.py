"""Contract checks any component (built-in or a plugin's) can be put through in its tests.

Each ``check_*`` raises :class:`ConformanceError` (an AssertionError) naming the broken contract.
``check_registered(kind, name, params)`` builds a component from the registry twice under one
seed and runs the checks for its kind (:data:`CHECKS` has one for every kind), including
determinism, and :func:`check_trainable_codec` for a trainable codec.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Callable, Mapping
from typing import Any

import torch
from torch import Tensor

from tokensep_core import STEMS
from tokensep_core.interfaces import (
    KINDS,
    CodebookPattern,
    Codec,
    ConditionEncoder,
    LanguageModel,
    MaskedTokenLM,
    Metric,
    MixtureDecoder,
    Renderer,
    Separator,
    Song,
    StemDataset,
    TokenLM,
    TrackOrder,
    TrainableCodec,
    TrainOutput,
)
from tokensep_core.lm.family import LMFamily


class ConformanceError(AssertionError):
    """A component breaks its kind's contract."""


def _require(condition: bool, message: str) -> None:
    if not condition:
        raise ConformanceError(message)


def _noise(shape: tuple[int, ...], seed: int) -> Tensor:
    return 0.1 * torch.randn(shape, generator=torch.Generator().manual_seed(seed))


def _stem_names(stems: object, where: str) -> tuple[str, ...]:
    """``stems`` checked to be a non-empty tuple of names."""
    _require(
        isinstance(stems, tuple) and len(stems) > 0 and all(isinstance(s, str) for s in stems),
        f"{where}: stems must be a non-empty tuple of names, got {stems!r}",
    )
    return stems  # type: ignore[return-value]


def _describe(value: Any) -> str:
    """``float32 [2, 800]`` for a tensor, else the type's name (for messages)."""
    return f"{str(value.dtype).removeprefix('torch.')} {list(value.shape)}" if isinstance(value, Tensor) else type(value).__name__


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


def check_trainable_codec(codec: TrainableCodec, seconds: float = 0.3, seed: int = 0) -> None:
    """One training forward on a batch of two: a :class:`TrainOutput` with recon and target
    ``[2 * C, 1, T]``, finite scalar losses whose gradients reach the codec's parameters, and an
    ``adversarial_config`` the trainer can read. Leaves no gradients and restores the mode; a
    train-mode forward may update codebook statistics (EMA, restarts)."""
    name = type(codec).__name__
    _require(isinstance(codec, TrainableCodec), f"codec {name} does not implement TrainableCodec")
    adversarial = codec.adversarial_config
    for attr in ("enabled", "generator_weight", "feature_weight", "build"):
        _require(hasattr(adversarial, attr), f"codec {name}: adversarial_config lacks {attr!r}")
    length = round(seconds * codec.sample_rate)
    wav = _noise((2, codec.channels, length), seed)
    was_training = codec.training
    codec.train()
    codec.zero_grad(set_to_none=True)
    try:
        output = codec(wav)
        _require(isinstance(output, TrainOutput), f"codec {name}: training forward returned a {type(output).__name__}, not a TrainOutput")
        items = 2 * codec.channels
        for field in ("recon", "target"):
            shape = list(getattr(output, field).shape)
            _require(shape == [items, 1, length], f"codec {name}: training forward's {field} is {shape}, expected [{items}, 1, {length}]")
        _require(isinstance(output.losses, dict) and len(output.losses) > 0, f"codec {name}: training forward returned no losses")
        for term, loss in output.losses.items():
            _require(
                isinstance(loss, Tensor) and loss.dim() == 0,
                f"codec {name}: training loss {term!r} must be a scalar tensor, got {_describe(loss)}",
            )
            _require(bool(torch.isfinite(loss)), f"codec {name}: training loss {term!r} is {loss.item()}")
        total = sum(output.losses.values())
        _require(total.requires_grad, f"codec {name}: training losses carry no gradient")
        total.backward()
        reached = [p for p in codec.parameters() if p.requires_grad and p.grad is not None and bool(p.grad.abs().sum() > 0)]
        _require(len(reached) > 0, f"codec {name}: no gradient of the training losses reaches its parameters")
    finally:
        codec.zero_grad(set_to_none=True)
        codec.train(was_training)


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
    """build/revert round trip, ``num_steps`` and ``num_streams``, and ``plan`` agreeing with
    ``build`` (see :func:`_check_plan`)."""
    codes = torch.randint(0, codebook_size, (2, num_codebooks, num_frames), generator=torch.Generator().manual_seed(0))
    pad_id = pattern.code_vocab(num_codebooks, codebook_size)
    steps = pattern.build(codes, codebook_size, pad_id)
    name = type(pattern).__name__
    _require(
        steps.shape[-1] == pattern.num_steps(num_frames, num_codebooks),
        f"pattern {name}: build made {steps.shape[-1]} steps, num_steps says {pattern.num_steps(num_frames, num_codebooks)}",
    )
    streams = pattern.num_streams(num_codebooks)
    _require(steps.shape[:2] == (2, streams), f"pattern {name}: build made {steps.shape[1]} streams, num_streams says {streams}")
    _require(torch.equal(pattern.revert(steps, num_codebooks, codebook_size), codes), f"pattern {name}: revert(build(codes)) != codes")
    _check_plan(pattern, codes[0], steps[0], codebook_size, pad_id)


def _check_plan(pattern: CodebookPattern, codes: Tensor, steps: Tensor, codebook_size: int, pad_id: int) -> None:
    """The plan of codes ``[K, T']`` built into steps ``[K', S]``: where it names codebook k the
    built id is in ``[low, high)`` and is that codebook's code (changing it to another allowed id
    changes exactly one code after revert, one of codebook k); where it says -1 the id is pad_id."""
    name = type(pattern).__name__
    num_codebooks, num_frames = codes.shape
    plan = pattern.plan(num_frames, num_codebooks, codebook_size)
    for field in ("codebook", "low", "high"):
        shape = tuple(getattr(plan, field).shape)
        _require(shape == tuple(steps.shape), f"pattern {name}: plan.{field} is {list(shape)}, the built steps {list(steps.shape)}")
    due = plan.codebook >= 0
    unpadded = (~due & (steps != pad_id)).nonzero()
    if len(unpadded):
        s, t = unpadded[0].tolist()
        raise ConformanceError(
            f"pattern {name}: plan pads step {t} of stream {s} but build put id {int(steps[s, t])} there, not pad_id {pad_id}"
        )
    outside = (due & ((steps < plan.low) | (steps >= plan.high))).nonzero()
    if len(outside):
        s, t = outside[0].tolist()
        allowed = f"[{int(plan.low[s, t])}, {int(plan.high[s, t])})"
        raise ConformanceError(f"pattern {name}: build put id {int(steps[s, t])} at step {t} of stream {s}, outside the plan's {allowed}")
    where = (due & (plan.high - plan.low > 1)).nonzero()  # [M, 2]: steps whose id can be changed
    if len(where) == 0:
        return
    stream, step = where[:, 0], where[:, 1]
    rows = torch.arange(len(where))
    low, width = plan.low[stream, step], plan.high[stream, step] - plan.low[stream, step]
    changed = steps.expand(len(where), *steps.shape).clone()  # [M, K', S]: one step changed per row
    changed[rows, stream, step] = low + (steps[stream, step] - low + 1) % width
    differs = pattern.revert(changed, num_codebooks, codebook_size) != codes  # [M, K, T']
    counts = differs.flatten(1).sum(1)
    codebook = differs.any(-1).int().argmax(-1)
    wrong = ((counts != 1) | (codebook != plan.codebook[stream, step])).nonzero()
    if len(wrong):
        m = int(wrong[0])
        s, t, k = int(stream[m]), int(step[m]), int(plan.codebook[stream[m], step[m]])
        got = f"{int(counts[m])} codes" if counts[m] != 1 else f"a code of codebook {int(codebook[m])}"
        raise ConformanceError(
            f"pattern {name}: plan says step {t} of stream {s} holds codebook {k}, but changing it changes {got} after revert"
        )


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
    """A ``name`` and a ``higher_is_better``; a finite float; a perfect estimate scores at least
    as well as a noisy one."""
    kind = type(metric).__name__
    _require(
        isinstance(getattr(metric, "name", None), str), f"metric {kind} lacks a str attribute 'name' (the name it is registered under)"
    )
    _require(isinstance(getattr(metric, "higher_is_better", None), bool), f"metric {kind} lacks a bool attribute 'higher_is_better'")
    _require(callable(metric), f"metric {kind} is not callable as metric(reference, estimate, sample_rate)")
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


def check_dataset(dataset: StemDataset, songs: int = 2, mixture_is_sum: bool = True, atol: float = 1e-3) -> None:
    """The first ``songs`` songs: ``dataset[i]`` a :class:`Song` at the dataset's rate with a
    mixture ``[C, T]`` and every stem of ``dataset.stems`` ``[C, T]``, finite, summing to the
    mixture within ``atol`` (unless not ``mixture_is_sum``: data whose mixture is not the stems'
    sum); iteration yields the same songs; ``dataset[len(dataset)]`` raises IndexError."""
    name = type(dataset).__name__
    for attr in ("stems", "sample_rate"):
        _require(hasattr(dataset, attr), f"dataset {name} lacks attribute {attr!r}")
    _stem_names(dataset.stems, f"dataset {name}")
    size = len(dataset)
    _require(size > 0, f"dataset {name}: len is {size}, expected at least one song")
    indexed = [dataset[i] for i in range(min(songs, size))]
    for i, song in enumerate(indexed):
        _check_song(name, i, song, dataset, mixture_is_sum, atol)
    for i, (song, again) in enumerate(zip(indexed, itertools.islice(iter(dataset), len(indexed)), strict=True)):
        same = song.name == again.name and torch.equal(song.mixture, again.mixture) and song.stems.keys() == again.stems.keys()
        same = same and all(torch.equal(wav, again.stems[stem]) for stem, wav in song.stems.items())
        _require(same, f"dataset {name}: iteration yields a song {i} ({again.name!r}) different from dataset[{i}] ({song.name!r})")
    try:
        dataset[size]
    except IndexError:
        pass
    except Exception as err:
        raise ConformanceError(f"dataset {name}: dataset[len(dataset)] raised {type(err).__name__}, not IndexError") from None
    else:
        raise ConformanceError(f"dataset {name}: dataset[len(dataset)] returned a song instead of raising IndexError")


def _check_song(name: str, index: int, song: Any, dataset: StemDataset, mixture_is_sum: bool, atol: float) -> None:
    """One song of :func:`check_dataset`."""
    where = f"dataset {name}: dataset[{index}]"
    _require(isinstance(song, Song), f"{where} is a {type(song).__name__}, not a Song")
    _require(song.sample_rate == dataset.sample_rate, f"{where} is at {song.sample_rate} Hz, the dataset says {dataset.sample_rate}")
    mixture = song.mixture
    _require(
        isinstance(mixture, Tensor) and mixture.dim() == 2 and mixture.shape[-1] > 0 and mixture.is_floating_point(),
        f"{where}: mixture must be float [C, T], got {_describe(mixture)}",
    )
    _require(bool(torch.isfinite(mixture).all()), f"{where}: mixture has NaN or Inf")
    _require(
        set(song.stems) == set(dataset.stems),
        f"{where} has stems {sorted(song.stems)}, the dataset's stems are {sorted(dataset.stems)}",
    )
    for stem, wav in song.stems.items():
        _require(
            isinstance(wav, Tensor) and wav.shape == mixture.shape,
            f"{where}: stem {stem!r} is {_describe(wav)}, the mixture {_describe(mixture)}",
        )
        _require(bool(torch.isfinite(wav).all()), f"{where}: stem {stem!r} has NaN or Inf")
    if mixture_is_sum:
        error = (torch.stack(list(song.stems.values())).sum(0) - mixture).abs().max().item()
        _require(error <= atol, f"{where}: the stems sum to the mixture only within {error:.2e} (tolerance {atol:g})")


def check_renderer(renderer: Renderer, seconds: float = 0.5, sample_rate: int = 8000) -> None:
    """``render(seed, seconds, sample_rate)``: the four stems, float32 ``[2, round(seconds *
    sample_rate)]``, finite; the same song for the same seed, another for another seed."""
    name = type(renderer).__name__
    length = round(seconds * sample_rate)
    first = renderer.render(0, seconds, sample_rate)
    _require(
        isinstance(first, dict) and set(first) == set(STEMS),
        f"renderer {name}: render returned stems {sorted(first)}, expected {sorted(STEMS)}",
    )
    for stem, wav in first.items():
        _require(
            isinstance(wav, Tensor) and wav.dtype == torch.float32 and wav.shape == (2, length),
            f"renderer {name}: stem {stem!r} must be float32 [2, {length}], got {_describe(wav)}",
        )
        _require(bool(torch.isfinite(wav).all()), f"renderer {name}: stem {stem!r} has NaN or Inf")
    again = renderer.render(0, seconds, sample_rate)
    _require(
        all(torch.equal(first[stem], again[stem]) for stem in STEMS), f"renderer {name}: two renders of seed 0 differ (not deterministic)"
    )
    other = renderer.render(1, seconds, sample_rate)
    _require(any(not torch.equal(first[stem], other[stem]) for stem in STEMS), f"renderer {name}: seeds 0 and 1 render the same song")


def check_mixture_decoder(decoder: MixtureDecoder, sample_rate: int = 16000, seconds: float = 0.25, atol: float = 1e-4) -> None:
    """stems ``[B, N, C, T]`` of the mixture's shape, finite, summing to the mixture within ``atol``
    (with and without ``band_hz``, and for a segment shorter than any usual window); deterministic
    in eval mode; each item as alone; outputs that depend on the guides exactly when ``uses_guides``."""
    name = type(decoder).__name__
    for attr in ("stems", "uses_guides"):
        _require(hasattr(decoder, attr), f"mixture decoder {name} lacks attribute {attr!r}")
    stems = _stem_names(decoder.stems, f"mixture decoder {name}")
    decoder.eval()
    with torch.inference_mode():
        for channels, length, band_hz in (
            (2, round(seconds * sample_rate), None),
            (1, round(seconds * sample_rate), 4000.0),
            (2, 300, None),
        ):
            mixture = _noise((2, channels, length), 0)
            guides = _noise((2, len(stems), channels, length), 1)
            out = decoder(mixture, guides, sample_rate, band_hz)
            where = f"mixture decoder {name} (mixture [2, {channels}, {length}], band_hz {band_hz})"
            _require(
                isinstance(out, Tensor) and out.shape == guides.shape and out.is_floating_point(),
                f"{where}: expected stems {list(guides.shape)}, got {_describe(out)}",
            )
            _require(bool(torch.isfinite(out).all()), f"{where}: stems have NaN or Inf")
            error = (out.sum(dim=1) - mixture).abs().max().item()
            _require(error <= atol, f"{where}: the stems sum to the mixture only within {error:.2e} (tolerance {atol:g})")
            _require(torch.equal(decoder(mixture, guides, sample_rate, band_hz), out), f"{where}: not deterministic in eval mode")
            alone = decoder(mixture[1:], guides[1:], sample_rate, band_hz)
            _require(torch.allclose(alone, out[1:], atol=1e-5), f"{where}: an item alone differs from the same item in a batch")
            other = decoder(mixture, _noise(tuple(guides.shape), 2), sample_rate, band_hz)
            same = torch.allclose(other, out, atol=1e-6)
            if decoder.uses_guides:
                _require(not same, f"{where}: uses_guides is True but other guides give the same stems")
            else:
                _require(same, f"{where}: uses_guides is False but other guides give other stems")


CHECKS: dict[str, Callable[..., None]] = {
    "codec": check_codec,
    "encoder": check_encoder,
    "lm": check_lm,
    "pattern": check_pattern,
    "track_order": check_track_order,
    "metric": check_metric,
    "separator": check_separator,
    "dataset": check_dataset,
    "renderer": check_renderer,
    "mixture_decoder": check_mixture_decoder,
}
"""The check of every kind in :data:`tokensep_core.interfaces.KINDS`."""


def check_registered(kind: str, name: str, params: Mapping[str, Any] | None = None, seed: int = 0) -> Any:
    """Build ``(kind, name)`` from the registry twice under ``seed``; check determinism under the
    seed and the kind's contract (a trainable codec's second build: its training forward too).
    Returns the first build."""
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
    _require(kind in CHECKS, f"no conformance check for kind {kind!r}; kinds are {', '.join(KINDS)}")
    CHECKS[kind](first)
    if isinstance(second, TrainableCodec):
        check_trainable_codec(second)
    return first
