"""``tokensep separate -n htdemucs``: the teacher plugin's named model, its weights from
TOKENSEP_HTDEMUCS_CHECKPOINT (a tiny randomly initialised network saved locally)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
from safetensors.torch import save_file

pytest.importorskip("tokensep_teachers", reason="plugin not installed: pip install -e plugins/tokensep-teachers")

from tokensep_core.cli.main import main
from tokensep_core.errors import ConfigError
from tokensep_teachers.htdemucs import HTDemucsConfig, HTDemucsSeparator
from tokensep_teachers.named import HTDEMUCS_ENV, htdemucs_params

from .tiny import TINY_HTDEMUCS

STEMS = ("vocals", "drums", "bass", "other")


@pytest.fixture
def htdemucs_env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> HTDemucsSeparator:
    """A tiny htdemucs saved as safetensors, with a JSON of its params naming it (relative path)
    in TOKENSEP_HTDEMUCS_CHECKPOINT; -> the separator the weights came from."""
    separator = HTDemucsSeparator(HTDemucsConfig(**TINY_HTDEMUCS, seed=5))
    folder = tmp_path / "weights"
    folder.mkdir()
    save_file(separator.network.state_dict(), folder / "tiny.safetensors")
    params = {k: v for k, v in TINY_HTDEMUCS.items() if k != "device"}
    (folder / "htdemucs.json").write_text(json.dumps({**params, "checkpoint": "tiny.safetensors"}))
    monkeypatch.setenv(HTDEMUCS_ENV, str(folder / "htdemucs.json"))
    monkeypatch.delenv("TOKENSEP_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    return separator


def _song(path: Path, frames: int = 9000, channels: int = 2, rate: int = 22050) -> np.ndarray:
    data = (0.1 * np.random.default_rng(1).standard_normal((frames, channels))).astype(np.float32)
    sf.write(str(path), data, rate, subtype="FLOAT")
    return data


def test_separates_a_wav_by_name_through_the_cli(htdemucs_env: HTDemucsSeparator, tmp_path: Path, capsys) -> None:
    """Four stems with the input's rate, channels and length, equal to the API's output."""
    data = _song(tmp_path / "song.wav")
    args = ["separate", str(tmp_path / "song.wav"), "-n", "htdemucs", "-o", str(tmp_path / "out"), "-d", "cpu"]
    assert main([*args, "--float32", "--clip-mode", "none"]) == 0
    assert "model htdemucs (" in capsys.readouterr().err
    folder = tmp_path / "out" / "htdemucs" / "song"
    assert sorted(p.name for p in folder.iterdir()) == sorted(f"{stem}.wav" for stem in STEMS)
    expected = htdemucs_env.separate(torch.from_numpy(data.T.copy()), 22050)
    for stem in STEMS:
        written, rate = sf.read(str(folder / f"{stem}.wav"), dtype="float32", always_2d=True)
        assert (rate, written.shape) == (22050, data.shape)
        np.testing.assert_allclose(written.T, expected[stem].numpy(), atol=1e-6)


def test_two_stems_sum_to_the_mixture(htdemucs_env: HTDemucsSeparator, tmp_path: Path) -> None:
    data = _song(tmp_path / "song.wav", frames=5000, channels=1, rate=16000)
    args = ["separate", str(tmp_path / "song.wav"), "-n", "htdemucs", "-o", str(tmp_path / "out"), "-d", "cpu"]
    assert main([*args, "--two-stems", "drums", "--float32", "--clip-mode", "none"]) == 0
    folder = tmp_path / "out" / "htdemucs" / "song"
    drums, rate = sf.read(str(folder / "drums.wav"), dtype="float32", always_2d=True)
    rest, _ = sf.read(str(folder / "no_drums.wav"), dtype="float32", always_2d=True)
    assert rate == 16000 and drums.shape == data.shape
    np.testing.assert_allclose(drums + rest, data, atol=1e-6)


def test_unset_variable_is_a_one_line_error_naming_it(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.delenv(HTDEMUCS_ENV, raising=False)
    monkeypatch.delenv("TOKENSEP_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    _song(tmp_path / "song.wav", frames=100)
    assert main(["separate", str(tmp_path / "song.wav"), "-n", "htdemucs", "-o", str(tmp_path / "out")]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tokensep: error: model 'htdemucs': set TOKENSEP_HTDEMUCS_CHECKPOINT to"), err
    assert not (tmp_path / "out").exists()


@pytest.mark.parametrize(
    "flag, named",
    [
        (["--seed", "3"], "--seed"),
        (["--temperature", "0.7"], "--temperature"),
        (["--no-greedy"], "--greedy/--no-greedy"),
        (["--segment", "2"], "--segment"),
        (["--bf16"], "--bf16"),
        (["--mixture-consistency"], "--mixture-consistency"),
    ],
)
def test_a_generative_only_flag_is_refused(htdemucs_env: HTDemucsSeparator, tmp_path: Path, capsys, flag: list[str], named: str) -> None:
    _song(tmp_path / "song.wav", frames=100)
    assert main(["separate", str(tmp_path / "song.wav"), "-n", "htdemucs", "-o", str(tmp_path / "out"), *flag]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert err == [f"tokensep: error: {named} applies to the generative separator only, not to model 'htdemucs'"]
    assert not (tmp_path / "out").exists()


def test_the_variable_takes_a_weights_file_or_params(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    (tmp_path / "w.th").write_bytes(b"")
    monkeypatch.setenv(HTDEMUCS_ENV, str(tmp_path / "w.th"))
    assert htdemucs_params() == {"checkpoint": str(tmp_path / "w.th")}
    monkeypatch.setenv(HTDEMUCS_ENV, str(tmp_path / "missing.th"))
    with pytest.raises(ConfigError, match="missing.th: no such file"):
        htdemucs_params()
    (tmp_path / "p.json").write_text(json.dumps({"depth": 3}))
    monkeypatch.setenv(HTDEMUCS_ENV, str(tmp_path / "p.json"))
    with pytest.raises(ConfigError, match="with a 'checkpoint'"):
        htdemucs_params()


def test_plugins_lists_the_named_model(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.delenv("TOKENSEP_DISABLE_PLUGIN_AUTOLOAD", raising=False)
    assert main(["plugins"]) == 0
    out = capsys.readouterr().out
    models = out[out.index("models (hook):") :].splitlines()[1:]
    assert any(line.split()[:2] == ["htdemucs", "tokensep-teachers"] for line in models), out
