"""plugins/tokensep-example installed as a real distribution: listed, swapped in by config, conformant."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

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


def test_swapped_into_a_pipeline_by_config_only(plugin_env: dict[str, str], tmp_path: Path) -> None:
    config = tmp_path / "example.yaml"
    config.write_text(
        "codec: {name: mulaw, params: {sample_rate: 8000}}\n"
        "encoder: {name: stft, params: {sample_rate: 8000, output_dim: 32}}\n"
        "lm: {name: debug, params: {num_codebooks: 1, codebook_size: 256, dim: 32}}\n"
    )
    result = tokensep(plugin_env, "demo", "--config", str(config), "--seconds", "0.25")
    assert result.returncode == 0, result.stderr
    assert "MuLawCodec" in result.stdout and "StftEncoder" in result.stdout
    assert "codes    [1, 1, 2000]" in result.stdout


def test_plugin_passes_the_conformance_suite(plugin_env: dict[str, str]) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(EXAMPLE / "tests")],
        env=plugin_env, capture_output=True, text=True,
    )
    assert result.returncode == 0, result.stdout[-2000:]
    assert "4 passed" in result.stdout


def test_without_the_plugin_its_components_are_unknown() -> None:
    result = subprocess.run([sys.executable, "-m", "tokensep_core.cli.main", "plugins", "--schema", "codec", "mulaw"], capture_output=True, text=True)
    assert result.returncode == 1 and "unknown codec 'mulaw'" in result.stderr
