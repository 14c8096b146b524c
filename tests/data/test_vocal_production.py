"""The studio vocal chain: the room rings on after a phrase, the compressor narrows the level
range at the same loudness, the draw is repeatable, and in a MIDI dataset only the vocal stem
changes; folders built before the option stay dry."""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch

from tokensep_core import STEMS
from tokensep_core.audio.io import read_audio
from tokensep_core.data.midi_dataset import write_midi_dataset
from tokensep_core.data.vocal_production import compress, draw_chain, echo, produce
from tokensep_core.errors import TokensepError

SR = 16000


def _phrase(seconds: float = 2.0, sung: float = 0.8) -> np.ndarray:
    """A 220 Hz tone for ``sung`` s, then digital silence -> ``[seconds * SR]``."""
    t = np.arange(int(seconds * SR)) / SR
    return np.where(t < sung, 0.5 * np.sin(2 * np.pi * 220 * t), 0.0)


def test_the_room_rings_on_after_the_phrase_in_decorrelated_stereo():
    dry = _phrase()
    chain = draw_chain(np.random.default_rng(0))
    out = produce(dry, 0.0, SR, chain, np.random.default_rng(1))
    assert out.shape == (2, dry.size)
    after = out[:, int(0.9 * SR) : int(1.2 * SR)]  # 0.1-0.4 s after the last note
    assert np.sqrt(np.mean(after**2)) > 1e-3 * np.sqrt(np.mean(out[:, : int(0.8 * SR)] ** 2))
    tail = after - after.mean(axis=1, keepdims=True)
    assert abs(np.corrcoef(tail)[0, 1]) < 0.9  # the room's left and right differ
    again = produce(dry, 0.0, SR, draw_chain(np.random.default_rng(0)), np.random.default_rng(1))
    assert np.array_equal(out, again)


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(x**2)))


def test_the_compressor_narrows_the_level_range_and_keeps_the_loudness():
    t = np.arange(2 * SR) / SR
    line = np.sin(2 * np.pi * 220 * t) * np.where(t < 1.0, 1.0, 0.1)  # a loud then a quiet second (20 dB)
    out = compress(line, SR, threshold_db=-6.0, ratio=4.0)
    before = 20 * np.log10(_rms(line[: SR // 2]) / _rms(line[-SR // 2 :]))
    after = 20 * np.log10(_rms(out[: SR // 2]) / _rms(out[-SR // 2 :]))
    assert before == pytest.approx(20.0, abs=0.1) and after < before - 5.0
    assert _rms(out) == pytest.approx(_rms(line), rel=1e-6)
    assert np.array_equal(compress(np.zeros(100), SR, -6.0, 4.0), np.zeros(100))


def test_echo_repeats_alternate_sides_and_decay():
    click = np.zeros((2, SR))
    click[:, 0] = 1.0
    out = echo(click, SR, seconds=0.1, feedback=0.5, level=0.2)
    step = int(0.1 * SR)
    assert out[0, step] == pytest.approx(0.2) and out[1, step] == 0.0
    assert out[1, 2 * step] == pytest.approx(0.1) and out[0, 2 * step] == 0.0


def _midi(path) -> None:
    import pretty_midi

    midi = pretty_midi.PrettyMIDI()
    parts = [(0, 36, True, 0.25), (33, 36, False, 0.25), (0, 60, False, 0.5), (73, 72, False, 0.25)]
    for program, pitch, drum, step in parts:
        inst = pretty_midi.Instrument(program=program, is_drum=drum)
        inst.notes = [
            pretty_midi.Note(90, pitch + (i % 4 if not drum else 0), i * step, i * step + 0.8 * step) for i in range(int(4 / step))
        ]
        midi.instruments.append(inst)
    midi.write(str(path))


def test_in_a_midi_dataset_only_the_vocals_change_and_old_folders_stay_dry(tmp_path):
    (tmp_path / "midi").mkdir()
    _midi(tmp_path / "midi" / "alpha.mid")
    options = dict(seconds=2.0, sample_rate=SR, excerpts=1, test_fraction=0.0, seed=3, progress=False)
    songs = {}
    for mode in ("dry", "studio"):
        write_midi_dataset(tmp_path / mode, [tmp_path / "midi"], **options, vocal_production=mode)
        folder = tmp_path / mode / "train" / "alpha_00"
        songs[mode] = {name: read_audio(folder / f"{name}.wav")[0] for name in ("mixture", *STEMS)}
        assert json.loads((tmp_path / mode / "midi.json").read_text())["vocal_production"] == mode
    dry, studio = songs["dry"], songs["studio"]
    assert torch.allclose(sum(studio[s] for s in STEMS), studio["mixture"], atol=1e-6, rtol=0)
    gain = float((studio["bass"] * dry["bass"]).sum() / dry["bass"].pow(2).sum())
    for stem in ("drums", "bass", "other"):  # the same stems, scaled by one factor (the song's balance)
        assert torch.allclose(studio[stem], gain * dry[stem], atol=1e-5), stem
    vocal_gap = (studio["vocals"] / studio["vocals"].abs().max() - dry["vocals"] / dry["vocals"].abs().max()).abs().max()
    assert vocal_gap > 0.05
    # a folder recorded before the option was dry: resuming it as studio is refused, as dry it resumes
    settings = json.loads((tmp_path / "dry" / "midi.json").read_text())
    del settings["vocal_production"]
    (tmp_path / "dry" / "midi.json").write_text(json.dumps(settings))
    with pytest.raises(TokensepError, match="vocal_production 'dry' -> 'studio'"):
        write_midi_dataset(tmp_path / "dry", [tmp_path / "midi"], **options, vocal_production="studio")
    assert write_midi_dataset(tmp_path / "dry", [tmp_path / "midi"], **options, vocal_production="dry").skipped == 1
    with pytest.raises(TokensepError, match="vocal production 'wet'"):
        write_midi_dataset(tmp_path / "x", [tmp_path / "midi"], **options, vocal_production="wet")
