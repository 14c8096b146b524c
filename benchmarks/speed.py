"""Speed benchmark of tokensep's `paper` separator against HTDemucs, in one run on one machine.

Measures (random weights; speed does not depend on them):
  rtf       tokensep separation real-time factor (wall / audio seconds), stereo 44.1 kHz, 4 stems,
            of the `paper` variants and of each trained --model (e.g. the shipped separator-small)
  htdemucs  HTDemucs real-time factor on the same input (demucs.apply.apply_model defaults)
  decode    LM decode steps/s at batch 1 and at the separator's batch, vs the memory-bandwidth limit
  memory    peak resident memory separating 1 min and 10 min files (fresh subprocesses, the
            streamed file-to-files path of `tokensep separate`)
  scaling   real-time factor at 30 s, 2 min and 10 min (same path, fresh subprocesses)
  decoder   the mixture decoder `spectral_mask` (default size): seconds per training step (batch 4
            of 1.5 s stereo 44.1 kHz, forward and backward) and per forward pass at each
            --decoder-strides frequency stride

    python benchmarks/speed.py [--seconds 60] [--only rtf,htdemucs,...] [--model separator-small] [--device auto] [--out FILE]
"""

from __future__ import annotations

import argparse
import json
import math
import os
import resource
import shlex
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import torch

from tokensep_core.evaluation.machine import describe_machine, machine_line

SAMPLE_RATE = 44100
SECTIONS = ("rtf", "htdemucs", "decode", "memory", "scaling", "decoder")
VARIANTS = {  # LM and track order of the `paper` preset's variants (codec and encoder stay the paper's)
    "sequential": ({"name": "llama", "params": {"preset": "paper"}}, {"name": "sequential"}),
    "independent": ({"name": "llama", "params": {"preset": "paper"}}, {"name": "independent"}),
    "interleaved": ({"name": "llama", "params": {"preset": "paper"}}, {"name": "interleaved"}),
    "masked": ({"name": "masked", "params": {"preset": "paper"}}, {"name": "sequential"}),  # the order is unused
    # not the paper's model: grouped-query attention (2 key/value heads for 8 query heads) cuts the KV cache 4×
    "sequential_gqa": ({"name": "llama", "params": {"preset": "paper", "kv_heads": 2}}, {"name": "sequential"}),
    # how the LM reads the mixture (issue 16): the paper's prefix is the default of every variant above
    "sequential_frame": ({"name": "llama", "params": {"preset": "paper", "conditioning": "frame"}}, {"name": "sequential"}),
    "sequential_both": ({"name": "llama", "params": {"preset": "paper", "conditioning": "both"}}, {"name": "sequential"}),
    "independent_frame": ({"name": "llama", "params": {"preset": "paper", "conditioning": "frame"}}, {"name": "independent"}),
}


def paper_separator(device: torch.device, dtype: str, batch_size: int | None, variant: str = "sequential"):
    """The `paper` preset (hcodec-1.0 + conformer paper + llama paper, sequential order) with
    random weights, or one of its ``VARIANTS`` (another track order, or the masked LM)."""
    from tokensep_core.config import ComponentSpec
    from tokensep_core.separation.pipeline import PipelineConfig
    from tokensep_core.separation.separator import GenerativeSeparator, InferenceConfig

    lm, order = VARIANTS[variant]
    config = PipelineConfig(
        codec=ComponentSpec(name="hcodec", params={"preset": "hcodec-1.0"}),
        encoder=ComponentSpec(name="conformer", params={"preset": "paper"}),
        lm=ComponentSpec.model_validate(lm),
        track_order=ComponentSpec.model_validate(order),
    )
    inference = InferenceConfig(dtype=dtype, **({} if batch_size is None else {"batch_size": batch_size}))
    return GenerativeSeparator.build(config, inference=inference, device=device)


def trained_separator(name: str, device: torch.device, loaded):
    """A trained model as ``tokensep separate -n NAME`` loads it (a shipped model's name or a
    checkpoint directory), with its stored inference settings; ``loaded``: the plugins
    (tokensep_core.plugins.load_plugins), loaded once for every model."""
    from tokensep_core.separation.models import resolve_model
    from tokensep_core.separation.separator import GenerativeSeparator

    path, label = resolve_model(name, loaded.models)
    return label, GenerativeSeparator.from_pretrained(path, device=device, registry=loaded.registry)


def mixture(seconds: float) -> torch.Tensor:
    """Seeded stereo noise ``[2, T]`` at 44.1 kHz (generation cost does not depend on content)."""
    return 0.1 * torch.randn(2, round(seconds * SAMPLE_RATE), generator=torch.Generator().manual_seed(0))


def synchronize(device: torch.device) -> None:
    if device.type == "cuda":
        torch.cuda.synchronize(device)


def time_separation(separator, seconds: float) -> tuple[float, dict[str, float]]:
    """(wall seconds to separate ``seconds`` of audio into all stems, seconds spent in the
    encoder, the LM's generation and the codec's decoder)."""
    parts = {"encoder": 0.0, "LM": 0.0, "codec decode": 0.0}

    def timed(function, part: str):
        def run(*args, **kwargs):
            synchronize(separator.device)
            start = time.perf_counter()
            result = function(*args, **kwargs)
            synchronize(separator.device)
            parts[part] += time.perf_counter() - start
            return result

        return run

    pipeline = separator.pipeline
    patches = [
        (pipeline.encoder, "forward", "encoder"),
        (pipeline.codec, "decode", "codec decode"),
        (pipeline.lm.family, "generate", "LM"),
    ]
    for owner, name, part in patches:
        setattr(owner, name, timed(getattr(owner, name), part))
    wav = mixture(seconds)
    try:
        synchronize(separator.device)
        start = time.perf_counter()
        separator.separate(wav, SAMPLE_RATE, progress=True)
        synchronize(separator.device)
        return time.perf_counter() - start, parts
    finally:
        for owner, name, _ in patches:
            delattr(owner, name)  # the instance attribute shadowed the class's method


def time_file_separation(separator, seconds: float, folder: Path) -> float:
    """Wall seconds of ``tokensep separate``'s path, file to files (streamed, memory bounded):
    ``seconds`` of seeded stereo noise written to ``folder`` a minute at a time, then separated."""
    from tokensep_core.audio.io import AudioWriter

    generator, left = torch.Generator().manual_seed(0), round(seconds * SAMPLE_RATE)
    with AudioWriter(folder / "mixture.wav", SAMPLE_RATE, 2) as writer:
        while left:
            n = min(left, 60 * SAMPLE_RATE)
            writer.write(0.1 * torch.randn(2, n, generator=generator))
            left -= n
    targets = {stem: folder / f"{stem}.wav" for stem in separator.stems}
    synchronize(separator.device)
    start = time.perf_counter()
    separator.separate_file(folder / "mixture.wav", targets, progress=True)
    synchronize(separator.device)
    return time.perf_counter() - start


def generation_calls(separator, seconds: float) -> list[int]:
    """LM batch items of each generation call the separator makes for ``seconds`` of stereo."""
    from tokensep_core.audio.chunking import segment_starts

    codec, inference = separator.pipeline.codec, separator.inference
    segment = round(inference.segment_seconds * SAMPLE_RATE)  # segments are cut at the input's rate
    hop = segment - min(round(inference.overlap * segment), segment - 1)
    segments = len(segment_starts(round(seconds * SAMPLE_RATE), segment, hop))
    # a mono codec folds the two channels into the batch, unless it generates once from their mean
    per_item = 2 if codec.channels == 1 and inference.stereo == "per_channel" else 1
    return [min(inference.batch_size, segments - start) * per_item for start in range(0, segments, inference.batch_size)]


def separator_batch(separator, seconds: float) -> tuple[int, int]:
    """(LM batch items of the first generation call, generation calls) for ``seconds`` of stereo."""
    calls = generation_calls(separator, seconds)
    return calls[0], len(calls)


@torch.inference_mode()
def prefix_length(separator) -> int:
    """Condition steps the encoder makes of one segment (the LM prefix the separator decodes after);
    0 for an LM that reads the condition frame by frame only (no prefix in its sequence)."""
    from tokensep_core.lm.conditioning import reads_prefix

    if not reads_prefix(separator.pipeline.lm):
        return 0
    encoder = separator.pipeline.encoder
    segment = torch.zeros(1, encoder.channels, round(separator.inference.segment_seconds * encoder.sample_rate), device=separator.device)
    prefix, _ = encoder(encoder.prepare(segment))
    return prefix.shape[1]


def kv_cache_bytes(separator, seconds: float, dtype: str) -> int | None:
    """Bytes of cached keys and values the LM's decode steps read separating ``seconds`` of stereo
    (each step attends over the prefix and every earlier position); None for the masked LM."""
    from tokensep_core.interfaces import MaskedTokenLM

    lm, layout, codec = separator.pipeline.lm, separator.pipeline.token_layout, separator.pipeline.codec
    if isinstance(lm, MaskedTokenLM):
        return None
    frames = math.ceil(round(separator.inference.segment_seconds * codec.sample_rate) / codec.hop_length)
    prefix = prefix_length(separator)
    kv_width = sum(2 * m.to_k.out_features for m in lm.modules() if hasattr(m, "to_k") and hasattr(m, "kv_heads"))
    per_position = kv_width * (2 if dtype == "bfloat16" else 4)
    total = 0
    for items in generation_calls(separator, seconds):
        plan = layout.plan(frames, layout.track_order.stems_to_generate(layout.track_order.stems), items)
        rows, length = plan.forced.shape[0], plan.forced.shape[-1]
        rows *= 2 if separator.inference.sampling.cfg_scale != 1.0 else 1  # guidance doubles the batch
        # the cached call feeding position t (1 … length - 2) attends over the prefix and positions 0 … t
        total += rows * per_position * sum(prefix + t + 1 for t in range(1, length - 1))
    return total


def htdemucs_seconds(seconds: float, device: torch.device) -> tuple[float, int]:
    """(wall seconds, parameters) of a randomly initialised HTDemucs on the same input."""
    from demucs.apply import apply_model
    from demucs.htdemucs import HTDemucs

    torch.manual_seed(0)
    model = HTDemucs(sources=["drums", "bass", "other", "vocals"]).to(device).eval()
    wav = mixture(seconds)[None].to(device)
    synchronize(device)
    start = time.perf_counter()
    with torch.inference_mode():
        apply_model(model, wav, device=device)
    synchronize(device)
    return time.perf_counter() - start, sum(p.numel() for p in model.parameters())


def read_bandwidth(device: torch.device, megabytes: int = 512, repeats: int = 5) -> float:
    """Memory read bandwidth in bytes/s: best of ``repeats`` sums over a large float32 buffer."""
    buffer = torch.ones(megabytes * 2**20 // 4, device=device)
    best = math.inf
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        buffer.sum()
        synchronize(device)
        best = min(best, time.perf_counter() - start)
    return buffer.numel() * 4 / best


def weight_bytes_per_step(lm: torch.nn.Module) -> int:
    """Bytes of weights one decode step reads: everything but the embedding tables (a step
    gathers K rows of those)."""
    return sum(p.numel() * p.element_size() for name, p in lm.named_parameters() if not name.startswith("embed."))


@torch.inference_mode()
def decode_rate(lm, batch: int, prefix_steps: int, steps: int, device: torch.device, dtype: str) -> float:
    """LM decode steps/s at ``batch`` after a ``prefix_steps`` prefix (cache filled by one call),
    computed as the separator does for ``dtype`` (:func:`inference_precision`)."""
    from tokensep_core.runtime.precision import inference_precision

    generator = torch.Generator().manual_seed(0)
    warm_up = 16  # a GPU's first steps compile and tune kernels
    tokens = torch.randint(0, lm.codebook_size, (batch, lm.num_codebooks, 1 + warm_up + steps), generator=generator).to(device)
    prefix = torch.randn(batch, prefix_steps, lm.dim, generator=generator).to(device)
    with inference_precision(lm, dtype, device):
        _, cache = lm(tokens[..., :1], prefix)
        for t in range(1, 1 + warm_up + steps):
            if t == 1 + warm_up:
                synchronize(device)
                start = time.perf_counter()
            _, cache = lm(tokens[..., t : t + 1], cache=cache)
        synchronize(device)
    return steps / (time.perf_counter() - start)


@torch.inference_mode()
def ops_per_step(lm, prefix_steps: int, device: torch.device, dtype: str) -> int:
    """Aten ops one cached decode step of ``lm`` dispatches at batch 1 (torch.profiler, host side):
    where the step is too small to fill the device, its time is about these ops' launch costs."""
    from torch.profiler import ProfilerActivity, profile

    from tokensep_core.runtime.precision import inference_precision

    tokens = torch.zeros(1, lm.num_codebooks, 3, dtype=torch.long, device=device)
    prefix = torch.zeros(1, prefix_steps, lm.dim, device=device)
    with inference_precision(lm, dtype, device):
        _, cache = lm(tokens[..., :1], prefix)
        _, cache = lm(tokens[..., 1:2], cache=cache)
        with profile(activities=[ProfilerActivity.CPU]) as profiler:
            lm(tokens[..., 2:3], cache=cache)
    return sum(1 for event in profiler.events() if event.name.startswith("aten::"))


def decoder_step_seconds(stride: int, device: torch.device, repeats: int = 3) -> tuple[float, float]:
    """Best-of-``repeats`` seconds of one training step (forward, backward) and of one forward
    pass of the default `spectral_mask` decoder with ``frequency_stride`` on a batch of 4 items of
    1.5 s stereo 44.1 kHz (random signals: the cost does not depend on them)."""
    from tokensep_core.plugins import load_registry

    decoder = load_registry().build("mixture_decoder", "spectral_mask", {"frequency_stride": stride}).to(device)
    generator = torch.Generator().manual_seed(0)
    guides = (0.1 * torch.randn(4, 4, 2, int(1.5 * SAMPLE_RATE), generator=generator)).to(device)
    mixture = guides.sum(dim=1)
    train, forward = math.inf, math.inf
    for _ in range(repeats):
        synchronize(device)
        start = time.perf_counter()
        decoder(mixture, guides, SAMPLE_RATE).square().mean().backward()
        synchronize(device)
        train = min(train, time.perf_counter() - start)
        with torch.inference_mode():
            start = time.perf_counter()
            decoder(mixture, guides, SAMPLE_RATE)
            synchronize(device)
            forward = min(forward, time.perf_counter() - start)
    return train, forward


def child_run(seconds: float, device: str, dtype: str, batch_size: int | None, variant: str) -> dict[str, float]:
    """Separate ``seconds`` of audio in a fresh interpreter -> wall, RTF and peak RSS (MiB)."""
    command = [sys.executable, __file__, "--child", str(seconds), "--device", device, "--dtype", dtype, "--variant", variant]
    if batch_size is not None:
        command += ["--batch-size", str(batch_size)]
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        raise RuntimeError(f"child run of {seconds} s failed:\n{done.stderr[-2000:]}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def peak_rss_mib() -> float:
    """Peak resident set size of this process (VmHWM), MiB."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def machine_info(device: torch.device) -> list[str]:
    return [
        f"- machine: {machine_line(describe_machine(device))}",
        f"- load average at start: {' '.join(f'{x:.2f}' for x in os.getloadavg())}",
    ]


def run(args: argparse.Namespace) -> str:
    from tokensep_core.runtime.device import resolve_device

    device = resolve_device(args.device)
    sections = set(args.only.split(",")) if args.only else set(SECTIONS)
    unknown = sections - set(SECTIONS)
    if unknown:
        raise SystemExit(f"speed.py: error: unknown sections {sorted(unknown)}; choose from {','.join(SECTIONS)}")
    variants = _variants(args.variant)
    needs_variant = sorted(sections & {"decode", "memory", "scaling"})
    if not variants and needs_variant:
        raise SystemExit(
            f"speed.py: error: --variant none leaves {','.join(needs_variant)} nothing to run; add --only rtf,htdemucs,decoder"
        )
    rows: list[tuple[str, str, str]] = []
    label = f"{args.seconds:g} s stereo 44.1 kHz"
    tokensep_rtf: dict[str, float] = {}
    if "rtf" in sections:
        bandwidth = read_bandwidth(device) if variants else 0.0  # for the variants' KV-cache rows
        for variant in variants:
            separator = paper_separator(device, args.dtype, args.batch_size, variant)
            batch, calls = separator_batch(separator, args.seconds)
            wall, parts = time_separation(separator, args.seconds)
            tokensep_rtf[variant] = wall / args.seconds
            split = ", ".join(f"{name} {t:.1f} s" for name, t in parts.items())
            rows.append(
                (
                    f"tokensep `paper` ({variant}) RTF",
                    f"{wall / args.seconds:.3f}",
                    f"{label}, 4 stems, wall {wall:.1f} s ({split}), {calls} generation call(s) of {batch} items, {args.dtype}",
                )
            )
            kv = kv_cache_bytes(separator, args.seconds, args.dtype)
            if kv is not None:
                rows.append(
                    (
                        f"KV cache read ({variant})",
                        f"{kv / 1e9:.0f} GB",
                        f"all decode steps of the song; ≥ {kv / bandwidth:.1f} s at {bandwidth / 1e9:.1f} GB/s",
                    )
                )
            del separator
        models = _models(args.model)
        loaded = None
        if models:
            from tokensep_core.plugins import load_plugins

            loaded = load_plugins()
        for name in models:
            model_label, separator = trained_separator(name, device, loaded)
            wall, parts = time_separation(separator, args.seconds)
            tokensep_rtf[model_label] = wall / args.seconds
            rest = wall - sum(parts.values())
            split = ", ".join(f"{part} {t:.1f} s" for part, t in parts.items())
            settings = separator.inference
            stage = settings.mixture_consistency + (" (trained mixture decoder)" if settings.mixture_decoder else "")
            rows.append(
                (
                    f"tokensep model {model_label} RTF",
                    f"{wall / args.seconds:.3f}",
                    f"{label}, {len(separator.stems)} stems, wall {wall:.1f} s ({split}, the rest {rest:.1f} s), mixture consistency {stage}, {settings.dtype}",
                )
            )
            del separator
    if "htdemucs" in sections:
        wall, params = htdemucs_seconds(args.seconds, device)
        demucs_rtf = wall / args.seconds
        rows.append(("HTDemucs RTF", f"{demucs_rtf:.3f}", f"{label}, random init, {params / 1e6:.1f} M params, wall {wall:.1f} s"))
        for variant, rtf in tokensep_rtf.items():
            rows.append((f"tokensep ({variant}) RTF / HTDemucs RTF", f"{rtf / demucs_rtf:.2f}", "target ≤ 1.0"))
    if "decode" in sections and variants[0] == "masked":
        rows.append(("LM decode", "n/a", "the masked LM has no incremental decode step (a fixed number of full passes per chunk)"))
    elif "decode" in sections:
        separator = paper_separator(device, args.dtype, args.batch_size, variants[0])
        batch, _ = separator_batch(separator, args.seconds)
        lm = separator.pipeline.lm.to(torch.bfloat16 if args.dtype == "bfloat16" else torch.float32)
        bandwidth = read_bandwidth(device)
        weights = weight_bytes_per_step(lm)
        limit = bandwidth / weights
        prefix_steps = prefix_length(separator)
        rows.append(("read bandwidth", f"{bandwidth / 1e9:.1f} GB/s", "best of 5 sums over 512 MiB float32"))
        rows.append(("bandwidth limit (batch 1)", f"{limit:.1f} steps/s", f"{weights / 1e6:.0f} MB of LM weights read per step"))
        for size in sorted({1, batch}):
            rate = decode_rate(lm, size, prefix_steps, args.decode_steps, device, args.dtype)
            note = f"{args.decode_steps} steps after a {prefix_steps}-step prefix"
            rows.append(
                (
                    f"LM decode, batch {size}",
                    f"{rate:.1f} steps/s",
                    f"{rate / limit:.0%} of the bandwidth limit; {note}" if size == 1 else f"{rate * size:.0f} item-steps/s; {note}",
                )
            )
        ops = ops_per_step(lm, prefix_steps, device, args.dtype)
        rows.append(
            (
                "LM ops per decode step",
                f"{ops}",
                "aten calls (nested ones included) of one cached step at batch 1 (torch.profiler, host side)",
            )
        )
        del separator, lm
    children: dict[float, dict[str, float]] = {}
    memory, scaling = _lengths(args.memory_seconds), _lengths(args.scaling_seconds)
    wanted = (memory if "memory" in sections else ()) + (scaling if "scaling" in sections else ())
    for seconds in sorted(set(wanted)):
        children[seconds] = child_run(seconds, str(device), args.dtype, args.batch_size, variants[0])
    if "memory" in sections:
        for seconds in memory:
            rows.append((f"peak RSS, {seconds:g} s", f"{children[seconds]['peak_rss_mib']:.0f} MiB", "fresh subprocess, VmHWM"))
        ratio = children[memory[-1]]["peak_rss_mib"] / children[memory[0]]["peak_rss_mib"]
        rows.append((f"peak RSS {memory[-1]:g} s / {memory[0]:g} s", f"{ratio:.2f}", "target ≤ 1.25 (600 s / 60 s)"))
    if "scaling" in sections:
        for seconds in scaling:
            rows.append(
                (f"RTF at {seconds:g} s", f"{children[seconds]['rtf']:.3f}", f"fresh subprocess, wall {children[seconds]['wall']:.1f} s")
            )
        ratio = children[scaling[-1]]["rtf"] / children[scaling[0]]["rtf"]
        rows.append((f"RTF {scaling[-1]:g} s / RTF {scaling[0]:g} s", f"{ratio:.2f}", "target 0.85–1.15 (600 s / 30 s)"))
    if "decoder" in sections:
        for stride in _strides(args.decoder_strides):
            train, forward = decoder_step_seconds(stride, device)
            note = "batch 4 × 1.5 s stereo 44.1 kHz, default size, best of 3"
            rows.append((f"mixture decoder training step, frequency_stride {stride}", f"{train:.2f} s", note))
            rows.append((f"mixture decoder forward, frequency_stride {stride}", f"{forward:.2f} s", note))
    command = "python benchmarks/speed.py " + shlex.join(sys.argv[1:])
    table = ["| measure | value | notes |", "|---|---|---|", *(f"| {a} | {b} | {c} |" for a, b, c in rows)]
    return "\n".join([f"Command: `{command.strip()}`", "", *machine_info(device), "", *table, ""])


def _variants(text: str) -> list[str]:
    """'sequential,interleaved' -> ['sequential', 'interleaved'] (the first one also runs decode,
    memory and scaling); 'none' -> [] (only the --model rows)."""
    if text == "none":
        return []
    variants = [v for v in text.split(",") if v]
    unknown = [v for v in variants if v not in VARIANTS]
    if not variants or unknown:
        raise SystemExit(f"speed.py: error: unknown variant(s) {unknown or text!r}; choose from {','.join(sorted(VARIANTS))} or none")
    return variants


def _models(text: str) -> list[str]:
    """'separator-small,runs/x' -> ['separator-small', 'runs/x'] (empty: no trained model)."""
    return [name.strip() for name in text.split(",") if name.strip()]


def _strides(text: str) -> list[int]:
    try:
        strides = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise SystemExit(f"speed.py: error: --decoder-strides must be comma-separated integers, got {text!r}") from None
    if not strides or min(strides) < 1:
        raise SystemExit(f"speed.py: error: --decoder-strides must be integers >= 1, got {text!r}")
    return strides


def _lengths(text: str) -> tuple[float, ...]:
    """'30,120,600' -> (30.0, 120.0, 600.0), sorted."""
    try:
        lengths = tuple(sorted(float(x) for x in text.split(",")))
    except ValueError:
        raise SystemExit(f"speed.py: error: expected comma-separated seconds, got {text!r}") from None
    if len(lengths) < 2 or lengths[0] <= 0:
        raise SystemExit(f"speed.py: error: need at least two positive lengths, got {text!r}")
    return lengths


def parse(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="input length for rtf/htdemucs/decode batch (default 60)")
    parser.add_argument("--only", default="", help=f"comma-separated subset of {','.join(SECTIONS)}")
    parser.add_argument("--device", default="auto", help="auto|cpu|cuda")
    parser.add_argument("--dtype", choices=("float32", "bfloat16"), default="float32", help="encoder+LM compute type")
    parser.add_argument("--batch-size", type=int, default=None, help="separator segments per generation call (default: InferenceConfig's)")
    parser.add_argument(
        "--variant",
        default="sequential",
        help=f"comma-separated from {','.join(sorted(VARIANTS))}: track orders of the llama LM or the masked LM; the first also runs decode, memory and scaling (default: the paper's sequential); none: only --model",
    )
    parser.add_argument(
        "--model",
        default="",
        help="comma-separated trained models (shipped names or checkpoint directories) timed in the rtf section beside the variants",
    )
    parser.add_argument("--memory-seconds", default="60,600", help="input lengths for the memory section (shortest vs longest)")
    parser.add_argument("--scaling-seconds", default="30,120,600", help="input lengths for the scaling section (longest vs shortest)")
    parser.add_argument("--decoder-strides", default="1,4", help="frequency strides of the decoder section (default 1,4)")
    parser.add_argument("--decode-steps", type=int, default=64, help="timed LM steps per decode measurement")
    parser.add_argument("--out", type=Path, default=None, help="also write the Markdown here")
    parser.add_argument("--child", type=float, default=None, help=argparse.SUPPRESS)
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    args = parse(argv)
    if args.child is not None:
        from tokensep_core.runtime.device import resolve_device

        separator = paper_separator(resolve_device(args.device), args.dtype, args.batch_size, args.variant)
        with tempfile.TemporaryDirectory(prefix="tokensep-speed-") as folder:
            wall = time_file_separation(separator, args.child, Path(folder))
        print(json.dumps({"wall": wall, "rtf": wall / args.child, "peak_rss_mib": peak_rss_mib()}))
        return
    from tokensep_core.errors import TokensepError

    try:
        report = run(args)
    except TokensepError as err:
        raise SystemExit(f"speed.py: error: {err}") from None
    print(report)
    if args.out is not None:
        from tokensep_core.audio.io import atomic_path

        with atomic_path(args.out) as tmp:
            Path(tmp).write_text(report)


if __name__ == "__main__":
    main()
