"""The ``procedural`` renderer: songs synthesized from a random score with numpy/scipy only."""

from __future__ import annotations

import numpy as np
from pydantic import model_validator
from torch import Tensor

from tokensep_core import STEMS
from tokensep_core.config import ComponentConfig
from tokensep_core.data import dsp
from tokensep_core.data.drums import make_kit, render_drums
from tokensep_core.data.mixing import mix_levels
from tokensep_core.data.score import compose
from tokensep_core.data.tonal import bass_voice, other_voice, render_notes
from tokensep_core.data.voice import make_singer, render_vocals
from tokensep_core.interfaces import Renderer


class ProceduralRenderer(Renderer):
    """Synthesized drum kits, bass, pads/keys/plucks and a singing voice; deterministic by seed."""

    class Config(ComponentConfig):
        tempo_range: tuple[float, float] = (70.0, 160.0)
        loudness_range_db: tuple[float, float] = (-26.0, -14.0)
        reverb: bool = True

        @model_validator(mode="after")
        def _ordered(self) -> ProceduralRenderer.Config:
            for name in ("tempo_range", "loudness_range_db"):
                low, high = getattr(self, name)
                if low > high:
                    raise ValueError(f"{name}: low {low} > high {high}")
            if self.tempo_range[0] <= 0:
                raise ValueError("tempo_range: tempos must be > 0")
            return self

    def __init__(self, config: Config | None = None) -> None:
        self.config = config or self.Config()

    def render(self, seed: int, seconds: float, sample_rate: int) -> dict[str, Tensor]:
        """-> ``{stem: [2, round(seconds * sample_rate)]}`` float32 for vocals, drums, bass, other."""
        rng = np.random.default_rng(seed)
        n = round(seconds * sample_rate)
        score = compose(rng, seconds, self.config.tempo_range)
        drums = render_drums(score.drums, make_kit(rng, sample_rate), n, sample_rate)
        bass = dsp.pan(render_notes(score.bass, bass_voice(rng), n, sample_rate, rng).mean(axis=0), rng.uniform(-0.1, 0.1))
        other = render_notes(score.other, other_voice(rng, score.other_style), n, sample_rate, rng)
        other = dsp.place(other, rng.uniform(-0.5, 0.5), rng.uniform(0.3, 1.0))
        high_voice = bool(np.mean([note.pitch for note in score.vocals]) > 62)
        vocals = dsp.pan(render_vocals(score.vocals, make_singer(rng, high_voice), n, sample_rate, rng), rng.uniform(-0.15, 0.15))
        if self.config.reverb:
            room = dsp.Reverb(rng, sample_rate, n, rng.uniform(0.4, 1.5), rng.uniform(3000, 8000))
            vocals = room(vocals, rng.uniform(0.1, 0.35))
            other = room(other, rng.uniform(0.1, 0.35))
        audio = {"vocals": vocals, "drums": drums, "bass": bass, "other": other}
        return mix_levels({name: audio[name] for name in STEMS}, rng, self.config.loudness_range_db)
