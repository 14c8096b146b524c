"""Listening by proxy: separated stems beside a song's true stems.

Per stem: level (RMS, dB full scale), spectral centroid, the correlation of left and right (1: the
stem is centred or mono), and how far the stems' sum is from the mixture. Leakage from other
instruments shows as a centroid or a stereo image unlike the reference's.

Then where each true stem went: every time-frequency bin's energy of true stem k is shared among
the estimated stems in proportion to their magnitudes there, so row k says which fraction of that
stem each output received (each row sums to 1). For stems that split the mixture (masks, a mixture
decoder) a share is exactly that output's mask, and row k is each mask's mean over stem k's energy.
A stem too quiet in the first table shows here where its energy went. Sources overlap, so even the
true stems' own magnitude-ratio masks do not reach 1: their diagonal is printed last, the ceiling
to read the table against.

Usage: python benchmarks/stem_proxies.py SEPARATED_DIR SONG_DIR
(SEPARATED_DIR: ``tokensep separate`` output for one song, ``{stem}.wav``; SONG_DIR: MUSDB layout
with ``mixture`` and the true ``{stem}`` files as WAV, FLAC or Ogg.)
"""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import soundfile as sf
from scipy.signal import stft

ROUTING_WINDOW_SECONDS = 0.046
"""STFT window of the routing table (2048 samples at 44.1 kHz), hop a quarter."""

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


def routing(estimates: np.ndarray, references: np.ndarray, sample_rate: int) -> np.ndarray:
    """estimates ``[J, T, C]``, references ``[K, T, C]`` -> ``[K, J]``: the fraction of true stem
    k's STFT energy that lands in estimate j, each bin's energy shared by the estimates' magnitude
    shares there. Rows sum to 1 (a silent reference's row is NaN)."""
    window = max(16, round(ROUTING_WINDOW_SECONDS * sample_rate))

    def magnitudes(wavs: np.ndarray) -> np.ndarray:
        """[N, T, C] -> |STFT| [N, C, F, frames]."""
        return np.abs(stft(np.moveaxis(wavs, 1, -1), nperseg=window, noverlap=window - window // 4)[2])

    shares = magnitudes(estimates)
    shares = shares / np.maximum(shares.sum(axis=0, keepdims=True), 1e-12)  # [J, C, F, N], summing to 1 over J
    energy = magnitudes(references) ** 2  # [K, C, F, N]
    routed = np.einsum("kcfn,jcfn->kj", energy, shares)
    with np.errstate(invalid="ignore", divide="ignore"):
        return routed / energy.sum(axis=(1, 2, 3))[:, None]


AUDIO_SUFFIXES = (".wav", ".flac", ".ogg")


def read(folder: Path, name: str) -> tuple[np.ndarray, int]:
    """``folder/name`` as WAV, FLAC or Ogg -> (wav [T, C], sample rate); a one-line exit if absent."""
    for suffix in AUDIO_SUFFIXES:
        path = folder / f"{name}{suffix}"
        if path.is_file():
            wav, rate = sf.read(path, always_2d=True)
            return wav, rate
    sys.exit(f"stem_proxies.py: error: no {name}{'/'.join(AUDIO_SUFFIXES)} in {folder}")


def main(separated: Path, song: Path) -> None:
    mixture, rate = read(song, "mixture")
    total = np.zeros_like(mixture)
    estimates, references = [], []
    print(f"{'stem':<7} {'level est/ref dB':>17} {'centroid est/ref Hz':>20} {'L/R corr est/ref':>17}")
    for stem in STEMS:
        estimate, _ = read(separated, stem)
        reference, _ = read(song, stem)
        n = min(len(estimate), len(reference), len(mixture))
        estimate, reference = estimate[:n], reference[:n]
        total[:n] += estimate
        estimates.append(estimate)
        references.append(reference)
        print(
            f"{stem:<7} {level_db(estimate):8.1f}/{level_db(reference):<8.1f} "
            f"{centroid_hz(estimate, rate):10.0f}/{centroid_hz(reference, rate):<9.0f} "
            f"{left_right(estimate):8.3f}/{left_right(reference):.3f}"
        )
    residual = level_db(total - mixture) - level_db(mixture)
    print(f"sum of the stems minus the mixture: {residual:.1f} dB relative to the mixture")
    n = min(len(wav) for wav in estimates + references)
    truth = np.stack([r[:n] for r in references])
    table = routing(np.stack([e[:n] for e in estimates]), truth, rate)
    print("where each true stem went (fraction of its energy in each output):")
    print(f"{'true':<7} " + " ".join(f"{stem:>7}" for stem in STEMS))
    for stem, row in zip(STEMS, table):
        print(f"{stem:<7} " + " ".join(f"{share:7.2f}" for share in row))
    ideal = np.diag(routing(truth, truth, rate))
    print("the true stems' own magnitude-ratio masks (diagonal): " + " ".join(f"{share:.2f}" for share in ideal))


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit(__doc__.strip().splitlines()[-3])
    main(Path(sys.argv[1]), Path(sys.argv[2]))
