"""Listening-level sanity checks of the procedural renderer, and its determinism."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from tokensep_core import STEMS
from tokensep_core.data.procedural import ProceduralRenderer
from tokensep_core.data.score import compose
from tokensep_core.errors import ConfigError
from tokensep_core.plugins import load_registry

SR = 22050
SECONDS = 3.0
SEEDS = (0, 1, 2)


@pytest.fixture(scope="module")
def songs() -> dict[int, dict[str, torch.Tensor]]:
    renderer = ProceduralRenderer()
    return {seed: renderer.render(seed, SECONDS, SR) for seed in SEEDS}


def _power_spectrum(wav: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    mono = wav.mean(0).double().numpy()
    return np.fft.rfftfreq(len(mono), 1 / SR), np.abs(np.fft.rfft(mono)) ** 2


def test_shapes_and_levels(songs):
    for stems in songs.values():
        assert tuple(stems) == STEMS
        for name, wav in stems.items():
            assert wav.shape == (2, round(SECONDS * SR)) and wav.dtype == torch.float32, name
            assert torch.isfinite(wav).all(), name
            rms_db = 10 * torch.log10(wav.pow(2).mean())
            assert -50 < rms_db < 0, f"{name} is silent or too loud ({rms_db:.1f} dBFS)"


def test_drums_have_sharp_onsets(songs):
    for stems in songs.values():
        mono = stems["drums"].mean(0)
        spec = torch.stft(mono, 1024, 256, window=torch.hann_window(1024), return_complex=True).abs()
        flux = (spec[:, 1:] - spec[:, :-1]).clamp(min=0).sum(0).numpy()
        threshold = 4 * np.median(flux)
        peaks = (flux[1:-1] > flux[:-2]) & (flux[1:-1] >= flux[2:]) & (flux[1:-1] > threshold)
        assert peaks.sum() >= 4, "fewer than 4 onsets in 3 s of drums"
        assert flux.max() > 8 * np.median(flux), "no sharp transient"


def test_bass_energy_is_low(songs):
    for stems in songs.values():
        freqs, power = _power_spectrum(stems["bass"])
        bass_low = power[freqs < 300].sum() / power.sum()
        assert bass_low > 0.8
        for name in ("vocals", "other"):  # the check tells stems apart
            freqs, power = _power_spectrum(stems[name])
            assert power[freqs < 300].sum() / power.sum() < bass_low, name


def test_vocals_are_pitched(songs):
    for seed, stems in songs.items():
        score = compose(np.random.default_rng(seed), SECONDS)  # the renderer's first draw is this same score
        vocals = stems["vocals"].mean(0).double().numpy()
        note = max(score.vocals[:4], key=lambda n: n.duration)
        a = int((note.start + 0.25 * note.duration) * SR)
        frame = vocals[a : a + 1024]
        frame = frame - frame.mean()
        ac = np.correlate(frame, frame, "full")[len(frame) - 1 :]
        ac /= ac[0]
        period = SR / (440.0 * 2 ** ((note.pitch - 69) / 12))
        lags = np.arange(len(ac))
        near = np.abs(lags - period) < 0.06 * period  # within a semitone (vibrato, glide)
        assert ac[near].max() > 0.5, f"seed {seed}: no periodicity at the note's pitch"


def test_deterministic_by_seed(songs):
    again = ProceduralRenderer().render(1, SECONDS, SR)
    for name in STEMS:
        assert torch.equal(again[name], songs[1][name])
    assert not torch.allclose(songs[0]["vocals"], songs[1]["vocals"])


def test_songs_vary():
    scores = [compose(np.random.default_rng(seed), 10.0) for seed in range(12)]
    assert len({round(s.tempo) for s in scores}) > 6
    assert len({(s.beats_per_bar, s.steps_per_beat) for s in scores}) > 1
    assert len({s.root for s in scores}) > 3
    assert len({s.other_style for s in scores}) > 1
    assert all(s.vocals and s.drums and s.bass and s.other for s in scores)
    assert all(s.vocals[0].start < s.beat * s.beats_per_bar for s in scores)
    vowels = {n.vowel for n in scores[0].vocals}
    assert len(vowels) > 1


def test_registered_and_config_checked():
    registry = load_registry()
    assert isinstance(registry.build("renderer", "procedural"), ProceduralRenderer)
    with pytest.raises(ConfigError, match="tempo_range"):
        registry.build("renderer", {"name": "procedural", "params": {"tempo_range": [150, 90]}})
