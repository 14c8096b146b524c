"""benchmarks/real/vocal_level.py: the interval resamples songs (a song's seeds stay together),
and two saved runs compare paired per song."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from tests.conftest import load_script


def test_the_bootstrap_resamples_songs_not_separations() -> None:
    vocal_level = load_script("benchmarks/real/vocal_level.py")
    # every song's seeds average to 0.1, though single separations scatter by +-0.5
    change = np.array([[0.6, -0.4], [-0.4, 0.6], [0.1, 0.1]])
    assert vocal_level.song_bootstrap(change) == pytest.approx((0.1, 0.1))
    low, high = vocal_level.song_bootstrap(np.array([[0.0], [1.0]]))
    assert low == pytest.approx(0.0) and high == pytest.approx(1.0)


def _saved_run(path: Path, shares: dict[str, tuple[float, float]]) -> Path:
    lines = ["seed 0: 4 mixtures separated"]
    lines += [f"{song}: vocal share {built:.3f} -> {down:.3f} (mean of 1 seeds)" for song, (built, down) in shares.items()]
    path.write_text("\n".join(lines) + "\n")
    return path


def test_two_saved_runs_compare_paired_per_song(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    vocal_level = load_script("benchmarks/real/vocal_level.py")
    first = _saved_run(tmp_path / "a.txt", {"x": (0.40, 0.35), "y": (0.30, 0.20)})
    second = _saved_run(tmp_path / "b.txt", {"x": (0.30, 0.20), "y": (0.30, 0.10)})
    vocal_level.compare(first, second)
    lines = dict(line.split(": ", 1) for line in capsys.readouterr().out.splitlines())
    assert lines["as built"].startswith("+0.050 ") and lines["as built"].endswith("first higher in 1/2 songs")
    assert lines["turned down"].startswith("+0.125 ")
    assert lines["drop (turned down - as built)"].startswith("+0.075 ")
    other = _saved_run(tmp_path / "c.txt", {"x": (0.3, 0.2)})
    with pytest.raises(SystemExit, match="different songs"):
        vocal_level.compare(first, other)
