"""Where one decode step of the `paper` LLaMA LM spends its time: a torch.profiler table.

Fills the KV cache with a prefix and ``--context`` steps, times ``--steps`` more, then profiles 10
steps, computed as the separator does for ``--dtype`` (bf16: weights, autocast, packed linears).
With ``--generate FRAMES`` it times and profiles one whole generation instead (the separator's
``generate`` call: sequential order, its default sampling), sampler and token bookkeeping included.

    python benchmarks/profile_decode.py [--batch 1] [--dtype bfloat16] [--prefix 251] [--context 250]
    python benchmarks/profile_decode.py --generate 130 --batch 32
"""

from __future__ import annotations

import argparse
import shlex
import sys
import time

import torch
from torch.profiler import ProfilerActivity, profile

from tokensep_core.runtime.precision import inference_precision
from tokensep_lms.llama import LlamaLM, LlamaLMConfig


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--batch", type=int, default=1)
    parser.add_argument("--dtype", choices=("float32", "bfloat16"), default="bfloat16")
    parser.add_argument("--prefix", type=int, default=251, help="condition steps (251: a 5 s segment of the paper encoder)")
    parser.add_argument("--context", type=int, default=250, help="decode steps cached before timing")
    parser.add_argument("--steps", type=int, default=20, help="timed steps")
    parser.add_argument(
        "--generate", type=int, default=0, metavar="FRAMES", help="profile one whole generation of FRAMES codec frames per stem instead"
    )
    args = parser.parse_args(argv)
    print(f"Command: `python benchmarks/profile_decode.py {shlex.join(sys.argv[1:] if argv is None else argv)}`")
    if args.generate:
        profile_generation(args)
        return
    torch.manual_seed(0)
    lm = LlamaLM(LlamaLMConfig(preset="paper")).eval()
    generator = torch.Generator().manual_seed(0)
    tokens = torch.randint(0, lm.codebook_size, (args.batch, lm.num_codebooks, 1), generator=generator)
    prefix = torch.randn(args.batch, args.prefix, lm.dim, generator=generator)
    device = torch.device("cpu")
    with torch.inference_mode(), inference_precision(lm, args.dtype, device):
        _, cache = lm(tokens, prefix)
        for _ in range(args.context):
            _, cache = lm(tokens, cache=cache)
        start = time.perf_counter()
        for _ in range(args.steps):
            _, cache = lm(tokens, cache=cache)
        rate = args.steps / (time.perf_counter() - start)
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            for _ in range(10):
                _, cache = lm(tokens, cache=cache)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; batch {args.batch}, {args.dtype}, context {args.prefix + args.context}"
    )
    print(f"{rate:.1f} steps/s ({1000 / rate:.1f} ms per step); profile of 10 steps:")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=12))


def profile_generation(args: argparse.Namespace) -> None:
    """Time, then profile, ``generate`` of the ``paper`` separator's LM for ``args.generate`` frames."""
    from speed import paper_separator  # benchmarks/ is on the path when this script runs

    from tokensep_core.lm.ar_generation import generate

    torch.manual_seed(0)
    device = torch.device("cpu")
    separator = paper_separator(device, args.dtype, None)
    pipeline, sampling = separator.pipeline, separator.inference.sampling
    prefix = torch.randn(args.batch, args.prefix, pipeline.lm.dim, generator=torch.Generator().manual_seed(0))
    with torch.inference_mode(), inference_precision(pipeline.lm, args.dtype, device):
        start = time.perf_counter()
        generate(pipeline.lm, pipeline.token_layout, prefix, args.generate, None, sampling, None, 0)
        wall = time.perf_counter() - start
        with profile(activities=[ProfilerActivity.CPU]) as prof:
            generate(pipeline.lm, pipeline.token_layout, prefix, args.generate, None, sampling, None, 0)
    print(
        f"torch {torch.__version__}, {torch.get_num_threads()} threads; batch {args.batch}, {args.dtype}, prefix {args.prefix}, {args.generate} frames, sampling: {sampling}"
    )
    print(f"generate: {wall:.2f} s; profile of a second call:")
    print(prof.key_averages().table(sort_by="self_cpu_time_total", row_limit=20))


if __name__ == "__main__":
    main()
