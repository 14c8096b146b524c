"""NISQA v2 reimplementation against the reference scores shipped with the official weights."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
import torch

from tokensep_core.audio.io import read_audio
from tokensep_core.errors import CheckpointError
from tokensep_core.metrics import NISQA, MetricError

NISQA_DIR = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "nisqa"
TOLERANCE = 0.02  # stated in the README next to the reference scores


@pytest.fixture(scope="module")
def nisqa_dir() -> Path:
    if not (NISQA_DIR / "reference_scores.csv").exists():
        pytest.skip(f"NISQA weights and reference scores not found at {NISQA_DIR}")
    return NISQA_DIR


@pytest.mark.slow
def test_matches_reference_scores_of_both_models(nisqa_dir: Path) -> None:
    data_dir = nisqa_dir.parent
    metrics = {name: NISQA(NISQA.Config(weights=nisqa_dir / name)) for name in ("nisqa.tar", "nisqa_mos_only.tar")}
    rows = list(csv.DictReader((nisqa_dir / "reference_scores.csv").open()))
    assert len(rows) >= 20
    for row in rows:
        wav, sr = read_audio(data_dir / row["file"])
        predicted = metrics[row["model"]].predict(wav, sr)
        for output, value in predicted.items():
            expected = float(row[f"{output}_pred"])
            assert value == pytest.approx(expected, abs=TOLERANCE), (row["file"], row["model"], output)


def test_metric_scores_the_estimate_and_picks_an_output(nisqa_dir: Path) -> None:
    wav, sr = read_audio(nisqa_dir / "vectors" / "vocals_clean.wav")
    wav = wav[:, : 3 * sr]
    noisy = wav + 0.1 * torch.randn(wav.shape, generator=torch.Generator().manual_seed(0))
    mos = NISQA(NISQA.Config(weights=nisqa_dir / "nisqa.tar"))
    noisiness = NISQA(NISQA.Config(weights=nisqa_dir / "nisqa.tar", output="noi"))
    assert mos(wav, wav, sr) > mos(wav, noisy, sr) + 0.5
    assert noisiness(wav, wav, sr) == pytest.approx(noisiness.predict(wav, sr)["noi"])
    assert mos(noisy, wav, sr) == mos(wav, wav, sr)  # no-reference: only the estimate counts


def test_long_signal_is_scored_in_chunks(nisqa_dir: Path) -> None:
    wav, sr = read_audio(nisqa_dir / "vectors" / "vocals_clean.wav")
    metric = NISQA(NISQA.Config(weights=nisqa_dir / "nisqa_mos_only.tar", chunk_seconds=3.0))
    half = wav.shape[-1] // 2
    first, second = metric.predict(wav[:, :half], sr)["mos"], metric.predict(wav[:, half : 2 * half], sr)["mos"]
    assert metric.predict(wav[:, : 2 * half], sr)["mos"] == pytest.approx((first + second) / 2, abs=1e-5)


def test_missing_or_wrong_weights_are_clear_errors(nisqa_dir: Path, tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="params.weights is not set"):
        NISQA(NISQA.Config())
    with pytest.raises(CheckpointError, match="not found"):
        NISQA(NISQA.Config(weights=tmp_path / "nope.tar"))
    bad = tmp_path / "bad.tar"
    bad.write_bytes(b"not a checkpoint")
    with pytest.raises(CheckpointError, match="not a loadable NISQA checkpoint"):
        NISQA(NISQA.Config(weights=bad))
    with pytest.raises(CheckpointError, match="predicts only"):
        NISQA(NISQA.Config(weights=nisqa_dir / "nisqa_mos_only.tar", output="noi"))


def test_too_short_signal_is_a_metric_error(nisqa_dir: Path) -> None:
    metric = NISQA(NISQA.Config(weights=nisqa_dir / "nisqa_mos_only.tar"))
    with pytest.raises(MetricError, match="too short"):
        metric(torch.zeros(1, 1000), torch.zeros(1, 1000), 44100)
