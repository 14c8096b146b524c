"""DNSMOS through speechmos: the same scores as speechmos's own ``run`` on the same 16 kHz mono
audio, lower with noise, clear errors, built from the registry, imported lazily."""

from __future__ import annotations

import ast
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import torchaudio

from tokensep_core.errors import ConfigError
from tokensep_core.metrics import DNSMOS, MetricError
from tokensep_core.plugins import load_registry

speechmos_dnsmos = pytest.importorskip("speechmos.dnsmos")


@pytest.fixture(scope="module")
def vocals(real_track: Path) -> tuple[torch.Tensor, int]:
    """The real vocals stem, ``[2, T]`` float32 at 44.1 kHz (5.99 s: two DNSMOS windows once repeated)."""
    data, sr = sf.read(str(real_track / "vocals.wav"), dtype="float32", always_2d=True)
    return torch.from_numpy(np.ascontiguousarray(data.T)), sr


def mono_16k(wav: torch.Tensor, sample_rate: int) -> np.ndarray:
    """``[C, T]`` -> float32 ``[T']``: channel mean resampled to 16 kHz, what speechmos takes."""
    return torchaudio.functional.resample(wav.double().mean(0), sample_rate, 16000).float().numpy()


def test_scores_equal_speechmos_run_and_ignore_the_reference(vocals: tuple[torch.Tensor, int]) -> None:
    wav, sr = vocals
    expected = speechmos_dnsmos.run(mono_16k(wav, sr), 16000)
    other_reference = torch.randn(wav.shape, generator=torch.Generator().manual_seed(1))
    for output in ("ovrl", "sig"):
        metric = DNSMOS(DNSMOS.Config(output=output))
        assert metric(other_reference, wav, sr) == pytest.approx(float(expected[f"{output}_mos"]), abs=1e-5)
    assert expected["ovrl_mos"] != pytest.approx(expected["sig_mos"], abs=1e-3)  # the outputs are told apart


def test_personalized_model_equals_speechmos_personalized(vocals: tuple[torch.Tensor, int]) -> None:
    wav, sr = vocals
    clip = wav[:, : int(4.6 * sr)]  # repeated to 9.2 s: one window
    expected = speechmos_dnsmos.run(mono_16k(clip, sr), 16000, model_type="dnsmos_personalized")
    plain = speechmos_dnsmos.run(mono_16k(clip, sr), 16000)
    assert expected["ovrl_mos"] != pytest.approx(plain["ovrl_mos"], abs=1e-3)
    metric = DNSMOS(DNSMOS.Config(personalized=True))
    assert metric(clip, clip, sr) == pytest.approx(float(expected["ovrl_mos"]), abs=1e-5)


def test_noise_lowers_the_score(vocals: tuple[torch.Tensor, int]) -> None:
    wav, sr = vocals
    noise = torch.randn(wav.shape, generator=torch.Generator().manual_seed(0))
    noisy = wav + noise * wav.square().mean().sqrt()  # 0 dB SNR
    metric = DNSMOS(DNSMOS.Config())
    clean_score, noisy_score = metric(wav, wav, sr), metric(wav, noisy, sr)
    assert noisy_score < clean_score - 0.1  # measured: 1.29 clean, 1.13 noisy


def test_estimate_above_full_scale_is_scaled_to_peak_one_not_clipped(vocals: tuple[torch.Tensor, int]) -> None:
    wav, sr = vocals
    loud = wav[:, : int(4.6 * sr)]
    loud = loud * (2.0 / loud.abs().max())  # well above 1 after the channel mean too
    audio = mono_16k(loud, sr)
    assert np.abs(audio).max() > 1.0
    expected = speechmos_dnsmos.run(audio / np.abs(audio).max(), 16000)
    assert DNSMOS(DNSMOS.Config())(loud, loud, sr) == pytest.approx(float(expected["ovrl_mos"]), abs=1e-5)


def test_unscorable_input_is_a_metric_error() -> None:
    metric = DNSMOS(DNSMOS.Config())
    empty = torch.zeros(2, 0)
    with pytest.raises(MetricError, match="metric dnsmos: estimate is empty"):
        metric(empty, empty, 16000)  # speechmos itself would loop forever repeating 0 samples
    bad = torch.zeros(1, 16000)
    bad[0, 5] = float("nan")
    with pytest.raises(MetricError, match="NaN or infinite"):
        metric(bad, bad, 16000)
    with pytest.raises(MetricError, match="differ in shape"):
        metric(torch.zeros(1, 16000), torch.zeros(1, 8000), 16000)


def test_registry_builds_it_by_name_with_its_options() -> None:
    registry = load_registry()
    metric = registry.build("metric", {"name": "dnsmos", "params": {"output": "p808", "personalized": True}})
    assert isinstance(metric, DNSMOS) and metric.higher_is_better
    assert metric.config.output == "p808" and metric.config.personalized
    assert "pdnsmos_models" in metric.model.primary_model_path
    assert isinstance(registry.build("metric", "dnsmos"), DNSMOS)
    with pytest.raises(ConfigError, match="output"):
        registry.build("metric", {"name": "dnsmos", "params": {"output": "mos"}})


def test_metrics_import_speechmos_only_when_built(repo_root: Path) -> None:
    """``tokensep --help`` stays onnx-free: no metric module imports speechmos or onnxruntime at its top level."""
    for path in sorted((repo_root / "tokensep_core" / "metrics").glob("*.py")):
        for node in ast.parse(path.read_text()).body:
            names = (
                [a.name for a in node.names]
                if isinstance(node, ast.Import)
                else [node.module or ""]
                if isinstance(node, ast.ImportFrom)
                else []
            )
            assert not any(n.split(".")[0] in ("speechmos", "onnxruntime") for n in names), path.name
