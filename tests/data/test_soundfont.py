"""The soundfont renderer: same layout as the procedural one, and clear errors when FluidSynth is missing."""

from __future__ import annotations

import shutil
from pathlib import Path

import pretty_midi
import pytest
import soundfile as sf
import torch

from tokensep_core import STEMS
from tokensep_core.audio.io import read_audio
from tokensep_core.data.soundfont import SoundfontRenderer
from tokensep_core.data.writer import SONG_FILES, write_synthetic_dataset
from tokensep_core.errors import TokensepError

needs_fluidsynth = pytest.mark.skipif(
    shutil.which("fluidsynth") is None, reason="the fluidsynth program is not installed (scripts/setup.sh installs it)"
)
SR = 22050


@needs_fluidsynth
@pytest.mark.slow
def test_soundfont_dataset_layout(tmp_path):
    renderer = SoundfontRenderer()
    summary = write_synthetic_dataset(tmp_path, 2, 2.0, SR, 5, renderer, test_fraction=0.5, renderer_name="soundfont", progress=False)
    assert summary.splits == {"train": 1, "test": 1}
    for folder in (p for p in tmp_path.glob("*/*") if p.is_dir()):
        wavs = {name: read_audio(folder / f"{name}.wav")[0] for name in SONG_FILES}
        for name, wav in wavs.items():
            assert wav.shape == (2, 2 * SR), name
            assert sf.info(str(folder / f"{name}.wav")).subtype == "FLOAT"
            assert wav.pow(2).mean() > 1e-6, f"{name} is silent"
        assert torch.allclose(sum(wavs[s] for s in STEMS), wavs["mixture"], atol=1e-6, rtol=0)


@needs_fluidsynth
def test_soundfont_deterministic_with_bundled_soundfont():
    bundled = Path(pretty_midi.__file__).parent / "TimGM6mb.sf2"
    renderer = SoundfontRenderer(SoundfontRenderer.Config(soundfont=bundled))
    a, b = renderer.render(9, 1.0, SR), renderer.render(9, 1.0, SR)
    assert tuple(a) == STEMS and all(torch.allclose(a[s], b[s]) for s in STEMS)


def test_missing_fluidsynth_is_a_clear_error():
    with pytest.raises(TokensepError, match="not found; install FluidSynth.*apt-get install fluidsynth"):
        SoundfontRenderer(SoundfontRenderer.Config(fluidsynth="no-such-fluidsynth-program"))


def test_missing_soundfont_is_a_clear_error(tmp_path):
    if shutil.which("fluidsynth") is None:
        pytest.skip("the fluidsynth program is not installed")
    with pytest.raises(TokensepError, match="soundfont .*not found"):
        SoundfontRenderer(SoundfontRenderer.Config(soundfont=tmp_path / "none.sf2"))
