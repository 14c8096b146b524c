"""Listening by proxy: separated stems beside a song's true stems.

Per stem: level (RMS, dB full scale), spectral centroid, the correlation of left and right (1: the
stem is centred or mono), and finally how far the stems' sum is from the mixture. Leakage from
other instruments shows as a centroid or a stereo image unlike the reference's.

Usage: python benchmarks/stem_proxies.py SEPARATED_DIR SONG_DIR
(SEPARATED_DIR: ``tokensep separate`` output for one song, ``{stem}.wav``; SONG_DIR: MUSDB layout
with ``mixture.wav`` and the true ``{stem}.wav``.)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import soundfile as sf

STEMS = ("vocals", "drums", "bass", "other")


def level_db(wav: np.ndarray) -> float:
    """wav [T, C] -> RMS in dB full scale."""
    return float(20 * np.log10(np.sqrt(np.mean(wav**2)) + 1e-12))


def centroid_hz(wav: np.ndarray, sample_rate: int) -> float:
    """wav [T, C] -> spectral centroid of the channel mean (Hz)."""
    spectrum = np.abs(np.fft.rfft(wav.mean(axis=1)))
    freqs = np.fft.rfftfreq(wav.shape[0], 1 / sample_rate)
    return float((freqs * spectrum).sum() / max(spectrum.sum(), 1e-12))


def left_right(wav: np.ndarray) -> float:
    """wav [T, C] -> correlation of the first two channels (1.0 for mono)."""
    if wav.shape[1] < 2 or wav[:, 0].std() == 0 or wav[:, 1].std() == 0:
        return 1.0
    return float(np.corrcoef(wav[:, 0], wav[:, 1])[0, 1])


def read(path: Path) -> tuple[np.ndarray, int]:
    wav, rate = sf.read(path, always_2d=True)
    return wav, rate


def main(separated: Path, song: Path) -> None:
    mixture, rate = read(song / "mixture.wav")
    total = np.zeros_like(mixture)
    print(f"{'stem':<7} {'level est/ref dB':>17} {'centroid est/ref Hz':>20} {'L/R corr est/ref':>17}")
    for stem in STEMS:
        estimate, _ = read(separated / f"{stem}.wav")
        reference, _ = read(song / f"{stem}.wav")
        n = min(len(estimate), len(reference), len(mixture))
        estimate, reference = estimate[:n], reference[:n]
        total[:n] += estimate
        print(
            f"{stem:<7} {level_db(estimate):8.1f}/{level_db(reference):<8.1f} "
            f"{centroid_hz(estimate, rate):10.0f}/{centroid_hz(reference, rate):<9.0f} "
            f"{left_right(estimate):8.3f}/{left_right(reference):.3f}"
        )
    residual = level_db(total - mixture) - level_db(mixture)
    print(f"sum of the stems minus the mixture: {residual:.1f} dB relative to the mixture")


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-3])
    main(Path(sys.argv[1]), Path(sys.argv[2]))
