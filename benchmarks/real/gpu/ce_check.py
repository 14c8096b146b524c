"""Does a packed (Opus-coded) mixture change what the separator reads? The teacher-forced
cross-entropy (nats per token) of separator_gpu.yaml's starting model (init_from) on the same
crops of the original token folder and of unpacked ones, with the true, null and shuffled
condition (tokensep_core.separation.conditioning): the change of ce_true against the original
should be small next to the conditioning gain itself (ce_null - ce_true).

    python benchmarks/real/gpu/ce_check.py runs/real/corpus-tokens /tmp/unpacked-0.92 [...] [--crops 64]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np
import torch
import yaml

from tokensep_core.data.token_shards import TokenShards, TokenShardsConfig
from tokensep_core.separation.conditioning import condition_losses, gains
from tokensep_core.separation.training import build_separator_training

CONFIG = Path(__file__).resolve().parents[1] / "train" / "separator_gpu.yaml"


@torch.no_grad()
def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("original", type=Path, help="the token folder that was packed")
    parser.add_argument("others", type=Path, nargs="+", help="token folders unpacked from packs of it")
    parser.add_argument("--crops", type=int, default=64, help="crops, each from another song (default 64)")
    parser.add_argument("--batch", type=int, default=16, help="crops per forward (default 16)")
    args = parser.parse_args()

    sections = yaml.safe_load(CONFIG.read_text())
    sections.pop("trainer")
    sections["tokens"]["root"] = str(args.original)
    task, _ = build_separator_training(sections, str(CONFIG))
    for module in task.modules().values():
        module.eval()
    stems = task.config.model.stems
    reference = TokenShards(TokenShardsConfig(root=args.original))
    frames = round(task.config.augment.seconds * reference.sample_rate / reference.hop_length)
    rng = np.random.default_rng(0)
    songs = np.linspace(0, len(reference) - 1, args.crops).round().astype(int)
    starts = [int(rng.integers(reference.songs[s]["frames"] - frames + 1)) for s in songs]
    results = {}
    for folder in [args.original, *args.others]:
        shards = TokenShards(TokenShardsConfig(root=folder))
        totals = {"true": 0.0, "null": 0.0, "shuffled": 0.0}
        for first in range(0, args.crops, args.batch):
            reads = [
                shards.read(int(s), stems, st, frames)
                for s, st in zip(songs[first : first + args.batch], starts[first : first + args.batch])
            ]
            batch = {
                "codes": {stem: torch.stack([r[0][stem] for r in reads]) for stem in stems},
                "mixture": torch.stack([r[1] for r in reads]),
            }
            codes, prefix, mask = task.encode(batch, shards.sample_rate)
            for name, loss in condition_losses(task.pipeline, codes, prefix, mask, len(reads)).items():
                totals[name] += float(loss) * len(reads)
        results[folder] = gains({k: v / args.crops for k, v in totals.items()})
    base = results[args.original]["ce_true"]
    for folder, r in results.items():
        print(
            f"{folder}: ce_true {r['ce_true']:.4f} ({r['ce_true'] - base:+.4f} vs original), ce_null {r['ce_null']:.4f}, "
            f"ce_shuffled {r['ce_shuffled']:.4f}, gain_null {r['gain_null']:.4f}, gain_shuffled {r['gain_shuffled']:.4f}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
