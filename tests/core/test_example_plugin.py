"""plugins/tokensep-example installed as a real distribution: listed, swapped in by config, conformant."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import soundfile as sf

EXAMPLE = Path(__file__).resolve().parents[2] / "plugins" / "tokensep-example"


@pytest.fixture(scope="module")
def plugin_env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    """Environment whose PYTHONPATH holds a fresh pip install of the example plugin."""
    target = tmp_path_factory.mktemp("site")
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--no-build-isolation", "--target", str(target), str(EXAMPLE)],
        check=True,
        capture_output=True,
    )
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [str(target), env.get("PYTHONPATH")]))
    env.pop("TOKENSEP_DISABLE_PLUGIN_AUTOLOAD", None)
    return env


def tokensep(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "tokensep_core.cli.main", *args], env=env, capture_output=True, text=True)


def test_listed_with_its_provider(plugin_env: dict[str, str]) -> None:
    result = tokensep(plugin_env, "plugins")
    assert result.returncode == 0, result.stderr
    rows = {tuple(line.split()[:3]) for line in result.stdout.splitlines()}
    assert ("mulaw", "tokensep-example", "0.1.0") in rows
    assert ("stft", "tokensep-example", "0.1.0") in rows
    assert ("envelope_distance", "tokensep-example", "0.1.0") in rows


@pytest.mark.slow
def test_swapped_into_a_separator_by_config_only(plugin_env: dict[str, str], tmp_path: Path) -> None:
    config = tmp_path / "example.yaml"
    config.write_text(
        "model:\n"
        "  codec: {name: mulaw, params: {sample_rate: 8000}}\n"
        "  encoder: {name: stft, params: {sample_rate: 8000}}\n"
        "  lm: {name: llama, params: {preset: tiny}}\n"
        "  pattern: {name: parallel}\n"
        "  track_order: {name: independent}\n"
        "data: {name: synthetic, params: {songs: 2, seconds: 1.0, sample_rate: 8000}}\n"
        "augment: {seconds: 0.05, examples_per_epoch: 8}\n"
        "inference: {segment_seconds: 0.05, batch_size: 4}\n"
        "trainer: {steps: 2, batch_size: 2, checkpoint_every: 0}\n"
    )
    trained = tokensep(plugin_env, "train", "separator", str(config), "--run-dir", str(tmp_path / "run"))
    assert trained.returncode == 0, trained.stderr[-2000:]
    stored = json.loads(next((tmp_path / "run" / "checkpoints").glob("step_*/config.json")).read_text())
    assert stored["task"]["model"]["codec"]["name"] == "mulaw" and stored["task"]["model"]["encoder"]["name"] == "stft"
    song = tmp_path / "song.wav"
    sf.write(str(song), [0.1, -0.1] * 200, 8000)
    separated = tokensep(plugin_env, "separate", str(song), "-n", str(tmp_path / "run"), "-o", str(tmp_path / "out"))
    assert separated.returncode == 0, separated.stderr[-2000:]
    assert sf.info(str(tmp_path / "out" / "run" / "song" / "drums.wav")).frames == 400


def test_plugin_passes_the_conformance_suite(plugin_env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests")],
        env=plugin_env,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert "7 passed" in result.stdout


def test_without_the_plugin_its_components_are_unknown() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "tokensep_core.cli.main", "plugins", "--schema", "codec", "mulaw"], capture_output=True, text=True
    )
    assert result.returncode == 1 and "unknown codec 'mulaw'" in result.stderr
