"""benchmarks/stem_proxies.py's routing table: where each true stem's energy went."""

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from tests.conftest import load_script

stem_proxies = load_script("benchmarks/stem_proxies.py")

RATE = 16000


def _stems() -> np.ndarray:
    """Two stems far apart in frequency: [2, T, 2]."""
    t = np.arange(RATE) / RATE
    low, high = np.sin(2 * np.pi * 110 * t), 0.5 * np.sin(2 * np.pi * 3000 * t)
    return np.stack([np.stack([low, low], axis=1), np.stack([high, high], axis=1)])


def test_perfect_stems_route_each_true_stem_to_itself() -> None:
    stems = _stems()
    np.testing.assert_allclose(stem_proxies.routing(stems, stems, RATE), np.eye(2), atol=0.01)


def test_a_stem_given_to_the_wrong_output_shows_there() -> None:
    stems = _stems()
    swapped = stems[::-1]
    np.testing.assert_allclose(stem_proxies.routing(swapped, stems, RATE), [[0, 1], [1, 0]], atol=0.01)
    # half of the high stem left in the low output: the high row splits, the low row does not
    mixed = np.stack([stems[0] + 0.5 * stems[1], 0.5 * stems[1]])
    table = stem_proxies.routing(mixed, stems, RATE)
    np.testing.assert_allclose(table.sum(axis=1), 1.0, atol=1e-6)
    assert table[0, 0] > 0.99 and 0.45 < table[1, 0] < 0.55


def test_references_are_read_as_flac_and_a_missing_one_is_a_one_line_exit(tmp_path: Path) -> None:
    wav = _stems()[0]
    sf.write(tmp_path / "mixture.flac", wav, RATE)
    read, rate = stem_proxies.read(tmp_path, "mixture")
    assert rate == RATE and read.shape == wav.shape and np.abs(read - wav).max() < 1e-3
    with pytest.raises(SystemExit) as exit_info:
        stem_proxies.read(tmp_path, "vocals")
    message = str(exit_info.value)
    assert "\n" not in message and "vocals.wav" in message and str(tmp_path) in message
