"""How much the separator's LM reads its condition (the mixture).

On held-out items, the LM's cross-entropy per token (nats, no label smoothing, no condition
dropout, unweighted) with (a) the true prefix, (b) the null prefix (what condition dropout trains
and classifier-free guidance contrasts with, tokensep_core.lm.ar_objective.null_condition) and (c)
a shuffled prefix (each item gets the next item's condition). ``gain_null = ce_null - ce_true``
and ``gain_shuffled = ce_shuffled - ce_true``: near 0, the LM ignores the mixture and generates
the same stems for every input. The separator task logs them while training (``eval/…``) and
``tokensep eval conditioning`` measures them for a checkpoint.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

import numpy as np
import torch
from torch import Tensor

from tokensep_core.data.sampling import as_segments, paired_segments
from tokensep_core.errors import ConfigError
from tokensep_core.interfaces import StemDataset
from tokensep_core.lm.ar_objective import null_condition
from tokensep_core.separation.pipeline import Pipeline

CONDITIONS = ("true", "null", "shuffled")


@dataclass(frozen=True)
class HeldOutItems:
    """Fixed evaluation items: mixture ``[N, C, T]`` (the sum of the stems), stems ``[N, S, C, T]``;
    ``paired`` ``[N, S, C, T]``: the same crops of a paired dataset (None: none given)."""

    mixture: Tensor
    stems: Tensor
    sample_rate: int
    paired: Tensor | None = None

    def batches(self, batch_size: int) -> Iterator[dict[str, Tensor]]:
        """Training-style batches ``{"mixture", "stems"}`` of ``batch_size`` items; a last batch
        of one item joins the previous one (a shuffled condition needs two)."""
        count = self.mixture.shape[0]
        starts = list(range(0, count, batch_size))
        if len(starts) > 1 and count - starts[-1] == 1:
            starts.pop()
        for start, end in zip(starts, [*starts[1:], count]):
            yield {"mixture": self.mixture[start:end], "stems": self.stems[start:end]}


def held_out_items(
    dataset: StemDataset, stems: Sequence[str], seconds: float, items: int, seed: int, paired: StemDataset | None = None
) -> HeldOutItems:
    """``items`` crops of ``seconds``: item i from song ``i mod len(dataset)`` (neighbours come
    from different songs when there are two or more), its start drawn once from ``seed``; no
    remixing, gain or channel swap. ``paired`` (the same songs, e.g. a separator's outputs) is cut
    at the same crops."""
    songs = as_segments(dataset)
    if items < 2:
        raise ConfigError(f"held-out items: need at least 2 (a shuffled condition takes another item's), got {items}")
    if len(songs) == 0:
        raise ConfigError(f"held-out items: dataset {type(dataset).__name__} has no songs")
    missing = [s for s in stems if s not in songs.stems]
    if missing:
        raise ConfigError(f"held-out items: dataset {type(dataset).__name__} has no stems {missing} (it has {', '.join(songs.stems)})")
    other = None if paired is None else paired_segments(songs, paired, stems, "held-out items")
    length = round(seconds * songs.sample_rate)
    rng = np.random.default_rng(seed)
    crops, paired_crops = [], []
    for i in range(items):
        song = i % len(songs)
        start = int(rng.integers(max(1, songs.num_samples(song) - length + 1)))
        crops.append(torch.stack([songs.read_stem(song, stem, start, length) for stem in stems]))
        if other is not None:
            paired_crops.append(torch.stack([other.read_stem(song, stem, start, length) for stem in stems]))
    stacked = torch.stack(crops)
    return HeldOutItems(stacked.sum(1), stacked, songs.sample_rate, torch.stack(paired_crops) if other is not None else None)


@contextmanager
def _same_draws(seed: int, device: torch.device) -> Iterator[None]:
    """Seed torch's generators (a masked LM's loss draws its masks from them), restoring them after."""
    with torch.random.fork_rng(devices=[device.index or 0] if device.type == "cuda" else []):
        torch.manual_seed(seed)
        yield


def condition_losses(
    pipeline: Pipeline,
    codes: Mapping[str, Tensor],
    prefix: Tensor,
    prefix_mask: Tensor | None,
    items: int,
    seed: int = 0,
    stem: str | None = None,
) -> dict[str, Tensor]:
    """``{"true" | "null" | "shuffled": scalar CE}`` of the LM family's loss on ``codes``
    ``{stem: [B', K, T']}`` with prefix ``[B', P, D]`` as given, nulled and rolled by one item
    (``B' / items`` rows: a mono codec sees each channel of an item as its own row). Each
    condition's loss sees the same random draws. ``stem``: the CE of that stem's tokens alone
    (the others weigh 0; they still sit in the sequence, so a stem generated after others is
    scored given theirs, as at separation time)."""
    from tokensep_core.separation.training import LossConfig  # training.py builds on this module

    if items < 2 or prefix.shape[0] % items:
        raise ConfigError(f"conditioning gain: need 2+ items whose rows divide the prefix's {prefix.shape[0]}, got {items}")
    if stem is not None and stem not in codes:
        raise ConfigError(f"conditioning gain: no stem {stem!r} (the model has {', '.join(codes)})")
    rows = prefix.shape[0] // items
    lm = pipeline.lm
    only = {} if stem is None else {name: float(name == stem) for name in codes}
    unsmoothed = LossConfig(label_smoothing=0.0, condition_dropout=0.0, stem_weights=only)
    conditions = {
        "true": (prefix, prefix_mask),
        "null": (null_condition(prefix), prefix_mask),
        "shuffled": (prefix.roll(rows, 0), None if prefix_mask is None else prefix_mask.roll(rows, 0)),
    }
    out = {}
    for name, (condition, mask) in conditions.items():
        with _same_draws(seed, prefix.device):
            out[name] = lm.family.loss(lm, pipeline.token_layout, codes, condition, mask, unsmoothed).float()
    return out


def gains(ce: Mapping[str, float]) -> dict[str, float]:
    """``{ce_true, ce_null, ce_shuffled, gain_null, gain_shuffled}`` from ``{true, null, shuffled}``."""
    return {
        **{f"ce_{name}": float(ce[name]) for name in CONDITIONS},
        "gain_null": float(ce["null"] - ce["true"]),
        "gain_shuffled": float(ce["shuffled"] - ce["true"]),
    }
