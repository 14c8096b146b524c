"""Drum transient metrics on synthetic drum hits."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from tokensep_core.metrics import AttackError, OnsetF

SR = 22050
HITS = (0.1, 0.6, 1.1, 1.6)


def drum_hits(times: tuple[float, ...], attack_ms: float, seed: int = 0, seconds: float = 2.0) -> torch.Tensor:
    """Noise + 150 Hz tone hits with a linear attack of ``attack_ms`` and a 50 ms decay -> ``[2, T]``."""
    rng = np.random.default_rng(seed)
    out = np.zeros(round(seconds * SR))
    t = np.arange(round(0.3 * SR)) / SR
    attack = attack_ms * 1e-3
    env = np.where(t < attack, t / attack, np.exp(-(t - attack) / 0.05))
    for start in times:
        hit = (0.6 * rng.standard_normal(t.size) + np.sin(2 * np.pi * 150 * t)) * env
        s = round(start * SR)
        out[s : s + t.size] += hit[: out.size - s]
    return torch.tensor(np.stack([out, out]) * 0.3, dtype=torch.float32)


@pytest.fixture(scope="module")
def metrics() -> tuple[OnsetF, AttackError]:
    return OnsetF(OnsetF.Config()), AttackError(AttackError.Config())


def test_identical_drums_are_perfect(metrics: tuple[OnsetF, AttackError]) -> None:
    onset_f, attack_error = metrics
    reference = drum_hits(HITS, attack_ms=1)
    assert onset_f(reference, reference.clone(), SR) == 1.0
    assert attack_error(reference, reference.clone(), SR) == 0.0


def test_smeared_attacks_have_larger_error(metrics: tuple[OnsetF, AttackError]) -> None:
    onset_f, attack_error = metrics
    reference = drum_hits(HITS, attack_ms=1)
    errors = [attack_error(reference, drum_hits(HITS, attack_ms=a, seed=1), SR) for a in (1, 10, 30)]
    assert errors[0] < errors[1] < errors[2]
    # a linear attack of a ms rises 10 % -> 90 % in 0.8 a ms: 30 ms vs 1 ms is ~23 ms apart
    assert 12 < errors[2] < 30
    assert onset_f(reference, drum_hits(HITS, attack_ms=30, seed=1), SR) == 1.0  # onsets still found


def test_low_passed_estimate_has_softer_attacks(metrics: tuple[OnsetF, AttackError]) -> None:
    _, attack_error = metrics
    reference = drum_hits(HITS, attack_ms=1)
    kernel = torch.ones(1, 1, round(0.02 * SR)) / round(0.02 * SR)  # 20 ms moving average
    smeared = torch.nn.functional.conv1d(reference[:, None], kernel, padding="same")[:, 0]
    assert attack_error(reference, smeared, SR) > 5.0


def test_shifted_onsets_beyond_window_drop_f_measure(metrics: tuple[OnsetF, AttackError]) -> None:
    onset_f, attack_error = metrics
    reference = drum_hits(HITS, attack_ms=1)
    within = drum_hits(tuple(t + 0.02 for t in HITS), attack_ms=1)
    beyond = drum_hits(tuple(t + 0.1 for t in HITS), attack_ms=1)
    half = drum_hits(HITS[:2] + tuple(t + 0.1 for t in HITS[2:]), attack_ms=1)
    assert onset_f(reference, within, SR) == 1.0
    assert onset_f(reference, beyond, SR) == 0.0
    assert onset_f(reference, half, SR) == pytest.approx(0.5)
    assert math.isnan(attack_error(reference, beyond, SR))  # nothing matched


def test_reference_without_onsets_is_undefined(metrics: tuple[OnsetF, AttackError]) -> None:
    onset_f, _ = metrics
    silence = torch.zeros(2, SR)
    assert math.isnan(onset_f(silence, drum_hits((0.2,), 1, seconds=1.0), SR))
    assert onset_f(drum_hits((0.2,), 1, seconds=1.0), silence, SR) == 0.0
