"""Balancing stems into a song: relative levels, song loudness, and headroom."""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import torch
from torch import Tensor

HEADROOM_PEAK = 0.99


def balance(stems: Mapping[str, np.ndarray], gains_db: Mapping[str, float], loudness_db: float) -> dict[str, Tensor]:
    """Scale each stem ``[C, T]`` to unit RMS times its gain, then all jointly so the mixture's
    RMS is ``loudness_db`` dBFS -> float32 tensors. Silent stems stay silent."""
    scaled = {}
    for name, wav in stems.items():
        rms = float(np.sqrt(np.mean(np.square(wav, dtype=np.float64))))
        scaled[name] = wav * (10 ** (gains_db[name] / 20) / rms if rms > 0 else 1.0)
    mixture_rms = float(np.sqrt(np.mean(np.square(sum(scaled.values()), dtype=np.float64))))
    factor = 10 ** (loudness_db / 20) / mixture_rms if mixture_rms > 0 else 1.0
    return {name: torch.from_numpy((wav * factor).astype(np.float32)) for name, wav in scaled.items()}


STEM_GAIN_RANGES_DB = {"vocals": (-2.0, 3.0), "drums": (-3.0, 2.0), "bass": (-4.0, 1.0), "other": (-5.0, 1.0)}
"""Each stem's gain is drawn uniformly from its range (dB, on unit-RMS stems), in this order."""


def mix_levels(
    stems: Mapping[str, np.ndarray],
    rng: np.random.Generator,
    loudness_range_db: tuple[float, float] = (-26.0, -14.0),
    gain_ranges_db: Mapping[str, tuple[float, float]] = STEM_GAIN_RANGES_DB,
) -> dict[str, Tensor]:
    """Stems ``{stem: [C, n]}`` (vocals, drums, bass, other) balanced with random per-stem gains
    drawn from ``gain_ranges_db`` (in its order) and a random mixture loudness -> float32 tensors
    (:func:`balance`). The draws do not depend on the ranges: changing one stem's range moves only
    that stem's level and the joint scale."""
    gains_db = {name: rng.uniform(*limits) for name, limits in gain_ranges_db.items()}
    return balance(stems, gains_db, float(rng.uniform(*loudness_range_db)))


def mix(stems: Mapping[str, Tensor]) -> Tensor:
    """The mixture ``[C, T]``: the stems summed in their mapping order, in float32 (numpy, which
    is much faster than torch's thread pool for this on a busy CPU)."""
    arrays = [wav.detach().cpu().to(torch.float32).numpy() for wav in stems.values()]
    total = arrays[0].copy()
    for array in arrays[1:]:
        total += array
    return torch.from_numpy(total)


def fit_headroom(stems: Mapping[str, Tensor], peak: float = HEADROOM_PEAK) -> dict[str, Tensor]:
    """Scale all stems by one factor so neither the mixture nor any stem peaks above ``peak``
    -> float32 ``[C, T]`` each."""
    arrays = {name: wav.detach().cpu().to(torch.float32).numpy() for name, wav in stems.items()}
    top = max([float(np.abs(mix(stems).numpy()).max())] + [float(np.abs(a).max()) for a in arrays.values()])
    factor = np.float32(peak / top) if top > peak else None
    return {name: torch.from_numpy(np.ascontiguousarray(a * factor if factor is not None else a)) for name, a in arrays.items()}
