"""Train the tiny regression task into RUN_DIR; used by the kill/resume and torchrun tests.

python train_tiny.py RUN_DIR [--steps N] [--checkpoint-every N] [--sleep SECONDS] [--batch-size B] [--dropout P] [--iterable]
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))

from tiny_task import NoisyRegression, NoisyRegressionStream, TinyRegression  # noqa: E402

from tokensep_core.training import TrainerConfig, train  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("run_dir")
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--checkpoint-every", type=int, default=5)
    parser.add_argument("--keep-last", type=int, default=3)
    parser.add_argument("--sleep", type=float, default=0.0)
    parser.add_argument("--batch-size", type=int, default=4)
    parser.add_argument("--dropout", type=float, default=0.1)
    parser.add_argument("--iterable", action="store_true")
    args = parser.parse_args()
    torch.set_num_threads(1)  # same float reductions in every run, and gentle on a shared machine
    config = TrainerConfig(
        steps=args.steps,
        lr=1e-2,
        warmup_steps=3,
        batch_size=args.batch_size,
        grad_accumulation=2,
        log_every=1,
        checkpoint_every=args.checkpoint_every,
        keep_last=args.keep_last,
        seed=7,
    )
    dataset = NoisyRegressionStream(48) if args.iterable else NoisyRegression(48)
    train(TinyRegression(dropout=args.dropout, sleep=args.sleep), config, args.run_dir, dataset)
    if "RANK" in os.environ and Path("/proc/self/task").is_dir():  # what outlives training, for the torchrun test
        names = [(task / "comm").read_text().strip() for task in Path("/proc/self/task").iterdir()]
        (Path(args.run_dir) / f"threads_rank{os.environ['RANK']}.txt").write_text("\n".join(names))


if __name__ == "__main__":
    main()
