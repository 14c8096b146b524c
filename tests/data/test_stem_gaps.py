"""scripts/stem_gaps.py: the share of digitally silent frames per stem, over the songs where it plays."""

from __future__ import annotations

import numpy as np
import soundfile as sf

from tests.conftest import load_script

SR = 8000


def test_silent_shares_per_stem(tmp_path, capsys):
    gaps = load_script("scripts/stem_gaps.py")
    tone = 0.3 * np.sin(2 * np.pi * 220 * np.arange(2 * SR) / SR)
    for k, vocal_silent in enumerate((0.5, 0.25)):
        song = tmp_path / f"song_{k}"
        song.mkdir()
        vocals = tone.copy()
        vocals[: int(vocal_silent * tone.size)] = 0.0
        stems = {"vocals": vocals, "drums": tone, "bass": np.zeros_like(tone), "other": tone * 1e-3}
        for stem, audio in stems.items():
            sf.write(song / f"{stem}.wav", np.stack([audio, audio], axis=1), SR, subtype="FLOAT")
    result = gaps.folder_gaps(tmp_path, songs=10)
    assert result["vocals"][0] == 2 and abs(result["vocals"][1] - 0.375) < 0.02
    assert result["drums"][1:] == (0.0, 0.0) and result["other"][1] == 0.0  # quiet but never silent
    assert result["bass"][0] == 0  # silent throughout: not counted
    assert gaps.main([str(tmp_path)]) == 0 and "| vocals | 2 |" in capsys.readouterr().out
    assert gaps.main([str(tmp_path / "none")]) == 1
