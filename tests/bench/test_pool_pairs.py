"""benchmarks/real/pool_pairs.py: paired differences pooled over row pairs, oriented by each metric's direction (log-mel flipped)."""

from __future__ import annotations

import csv

import pytest

from tests.conftest import load_script


def test_pooled_differences_match_on_song_and_seed(tmp_path, capsys):
    pool = load_script("benchmarks/real/pool_pairs.py")
    scores = tmp_path / "scores.csv"
    with scores.open("w", newline="") as f:
        w = csv.writer(f)
        w.writerow(["row", "reference", "seed", "song", "metric", "stem", "value"])
        for row, base in (("a", 3.0), ("b", 2.0), ("a1", 2.5), ("b1", 3.0)):
            for song in ("s1", "s2"):
                w.writerow([row, "own", 0, song, "visqol", "vocals", base])
                w.writerow([row, "own", 0, song, "mel_distance", "vocals", base])
                w.writerow([row, "mismatched", 0, song, "visqol", "vocals", 0.0])
    d = pool.pooled_differences(scores, [("a", "b"), ("a1", "b1")])
    assert sorted(d[("visqol", "vocals")].ravel()) == [-0.5, -0.5, 1.0, 1.0]
    assert sorted(d[("mel_distance", "vocals")].ravel()) == [-1.0, -1.0, 0.5, 0.5]  # lower is better: negated
    assert pool.main([str(scores), "a:b", "a1:b1"]) == 0
    assert "| visqol | vocals | 4 | +0.25" in capsys.readouterr().out
    with pytest.raises(SystemExit, match="no scores of row zz"):
        pool.pooled_differences(scores, [("a", "zz")])
