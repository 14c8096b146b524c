"""Which synthetic song is which (name, split and seed of song ``index`` for a dataset seed), and
rendering it.

Shared by ``tokensep data synth`` (files) and the ``synthetic`` dataset (on the fly), so both give
the same songs. Song ``i`` is in the test split when ``floor((i + 1) f) > floor(i f)`` for test
fraction ``f``: evenly spread, and unchanged when a dataset is later extended with more songs.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from torch import Tensor

from tokensep_core import STEMS
from tokensep_core.data.mixing import fit_headroom
from tokensep_core.errors import TokensepError
from tokensep_core.interfaces import Renderer


@dataclass(frozen=True)
class PlannedSong:
    index: int
    name: str
    split: str
    seed: int


def plan_song(index: int, seed: int, test_fraction: float) -> PlannedSong:
    is_test = math.floor((index + 1) * test_fraction + 1e-9) > math.floor(index * test_fraction + 1e-9)
    song_seed = int(np.random.SeedSequence([seed, index]).generate_state(1, np.uint64)[0] >> 1)
    return PlannedSong(index, f"synth_{index:05d}", "test" if is_test else "train", song_seed)


def plan_songs(songs: int, seed: int, test_fraction: float) -> list[PlannedSong]:
    return [plan_song(i, seed, test_fraction) for i in range(songs)]


def render_song(renderer: Renderer, song: PlannedSong, seconds: float, sample_rate: int) -> dict[str, Tensor]:
    """The four stems ``{stem: [2, T]}`` float32 of a planned song, jointly scaled to leave
    headroom; their sum (:func:`mixing.mix`) is the mixture."""
    rendered = renderer.render(song.seed, seconds, sample_rate)
    missing = [name for name in STEMS if name not in rendered]
    if missing:
        raise TokensepError(f"renderer {type(renderer).__name__} gave no {', '.join(missing)} for {song.name}")
    return fit_headroom({name: rendered[name] for name in STEMS})
