"""cSDR / joint BSSEval v4 against museval's own track evaluation, and the aggregation rules."""

from __future__ import annotations

import math
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch

from tokensep_core.audio.io import read_audio
from tokensep_core.metrics import CSDR, bss_eval_sources, csdr_over_tracks, usdr_over_tracks

museval = pytest.importorskip("museval", exc_type=ImportError)

STEMS = ("vocals", "drums")


def _perturb(wav: torch.Tensor, seed: int) -> torch.Tensor:
    """A plausible estimate: low-passed by a 3-tap average plus noise at -20 dB."""
    smoothed = torch.nn.functional.avg_pool1d(wav[:, None], 3, stride=1, padding=1, count_include_pad=False)[:, 0]
    noise = torch.randn(wav.shape, generator=torch.Generator().manual_seed(seed))
    return smoothed + noise * wav.std() * 0.1


@pytest.mark.slow
def test_joint_and_per_stem_agree_with_museval_track_evaluation(real_track: Path) -> None:
    references, estimates = {}, {}
    for i, stem in enumerate(STEMS):
        wav, sr = read_audio(real_track / f"{stem}.wav")
        references[stem] = wav[:, 1 * sr : 4 * sr]  # 3 s
        estimates[stem] = _perturb(references[stem], seed=i)

    ours = bss_eval_sources(references, estimates, sr)
    # museval's own track-level path (as for MUSDB); its store rounds scores to 5 decimals
    track = SimpleNamespace(name="falcon", rate=sr, targets={s: SimpleNamespace(audio=references[s].double().numpy().T) for s in STEMS})
    store = museval.eval_mus_track(track, {s: estimates[s].double().numpy().T for s in STEMS})
    frames = store.df
    for stem in STEMS:
        for metric in ("SDR", "SIR", "ISR", "SAR"):
            values = frames[(frames.target == stem) & (frames.metric == metric)]["score"]
            assert len(values) == 3
            assert ours[stem][metric] == pytest.approx(float(values.median()), abs=1e-4), (stem, metric)
        # a stem alone: BSSEval v4's SDR does not depend on the other references
        assert CSDR(CSDR.Config())(references[stem], estimates[stem], sr) == pytest.approx(ours[stem]["SDR"], abs=1e-6)


def test_csdr_ignores_silent_windows_and_uses_window_median() -> None:
    sr = 8000
    gen = torch.Generator().manual_seed(0)
    reference = torch.randn(1, 4 * sr, generator=gen)
    reference[:, sr : 2 * sr] = 0  # second window silent -> NaN, ignored
    noise = torch.randn(1, 4 * sr, generator=gen)
    gains = [0.1, 1.0, 0.5, 0.01]  # per-window noise levels; window 2 is skipped
    estimate = reference.clone()
    for w, g in enumerate(gains):
        if w != 1:
            estimate[:, w * sr : (w + 1) * sr] += g * noise[:, w * sr : (w + 1) * sr]
    got = CSDR(CSDR.Config())(reference, estimate, sr)
    per_window = [
        10
        * math.log10(
            float(reference[:, w * sr : (w + 1) * sr].square().sum() / (gains[w] * noise[:, w * sr : (w + 1) * sr]).square().sum())
        )
        for w in (0, 2, 3)
    ]
    assert got == pytest.approx(float(np.median(per_window)), abs=0.05)


def test_silent_stem_gives_nan_like_museval_windows() -> None:
    assert math.isnan(CSDR(CSDR.Config())(torch.zeros(2, 16000), torch.ones(2, 16000) * 0.1, 8000))
    active = torch.randn(1, 16000, generator=torch.Generator().manual_seed(0))
    # one silent reference makes every window NaN for every stem (museval's rule)
    scores = bss_eval_sources({"a": active, "b": torch.zeros(1, 16000)}, {"a": active, "b": active}, 8000)
    assert all(math.isnan(v) for stem in scores.values() for v in stem.values())


def test_track_aggregation_rules() -> None:
    values = [1.0, 2.0, 9.0, float("nan")]
    assert csdr_over_tracks(values) == 2.0  # median, NaN track skipped
    assert usdr_over_tracks(values) == 4.0  # mean, NaN track skipped
    assert math.isnan(csdr_over_tracks([float("nan")]))
