"""Long inputs: ``separate``'s peak memory grows with the song only by its song-sized buffers.

A real 1-hour input is not separated here (the tiny model generates ~50 frames per second of
audio, one step at a time). Instead the peak RSS of a fresh process separating a short and a
6x longer song is compared: the segments are generated a batch at a time, so the growth must
stay within the song-sized buffers (input, resampled mixture, stems at both rates, resampling
temporaries) and not follow the number of segments. Those buffers are still linear in the song
(about 3 MiB per second of 44.1 kHz stereo, measured): the song and its stems are held in
memory, not streamed.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
RATE, CHANNELS, STEMS = 44100, 2, 4
SCRIPT = """
import resource, sys, torch
from tokensep_core.separator import GenerativeSeparator
torch.set_num_threads(1)
separator = GenerativeSeparator.from_pretrained(sys.argv[1], device="cpu")
seconds, rate = float(sys.argv[2]), int(sys.argv[3])
mixture = 0.1 * torch.randn(2, int(seconds * rate), generator=torch.Generator().manual_seed(0))
stems = separator.separate(mixture, rate)
assert all(s.shape == mixture.shape for s in stems.values())
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def _peak_bytes(model: Path, seconds: float) -> int:
    done = subprocess.run([sys.executable, "-c", SCRIPT, str(model), str(seconds), str(RATE)], cwd=REPO, check=True, capture_output=True, text=True, timeout=600)
    return int(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_peak_memory_grows_only_by_the_song_sized_buffers(tiny_model: Path) -> None:
    short, long = 1.0, 6.0
    growth = _peak_bytes(tiny_model, long) - _peak_bytes(tiny_model, short)
    extra_samples = (long - short) * RATE * CHANNELS
    # input + stems at the input rate, float32; the codec-rate copies (16 kHz) are smaller still
    song_sized = extra_samples * 4 * (1 + STEMS) * (1 + 16000 / RATE)
    assert growth < 2 * song_sized, f"peak grew by {growth / 2**20:.1f} MiB for {long - short:g} s more (buffers: {song_sized / 2**20:.1f} MiB)"
