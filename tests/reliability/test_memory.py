"""A 1-hour input separates in bounded memory: ``separate_file`` reads the mixture and writes the
stems one batch of segments at a time, so nothing song-sized is ever held.

The model is a real pipeline (debug codec and encoder at 1 kHz with 2 frames per second, tiny
LLaMA, random weights) so that an hour of audio is only 7,200 frames per stem; the input is 8 kHz
mono. The peak RSS of fresh processes separating 20 minutes and 60 minutes is compared: both run
several full generation batches, so any buffer that follows the song's length shows up as growth:
one float32 copy of the extra 40 minutes is 73 MiB (the input and four stems, 366 MiB).
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from tokensep_core.audio.io import audio_info

REPO = Path(__file__).resolve().parents[2]
RATE, STEMS = 8000, ("vocals", "drums", "bass", "other")
SCRIPT = """
import resource, sys, torch
from tokensep_core.audio.io import AudioWriter
from tokensep_core.config import ComponentSpec
from tokensep_core.separation.pipeline import PipelineConfig
from tokensep_core.separation.separator import GenerativeSeparator, InferenceConfig
torch.set_num_threads(1)
seconds, rate, folder = float(sys.argv[1]), int(sys.argv[2]), sys.argv[3]
config = PipelineConfig(
    codec=ComponentSpec(name="debug", params={"sample_rate": 1000, "hop_length": 500}),
    encoder=ComponentSpec(name="debug", params={"sample_rate": 1000, "hop_length": 500, "n_mels": 8}),
    lm=ComponentSpec(name="llama", params={"preset": "tiny"}),
)
separator = GenerativeSeparator.build(config, inference=InferenceConfig(segment_seconds=8.0, batch_size=64), device="cpu")
generator, left = torch.Generator().manual_seed(0), int(seconds * rate)
with AudioWriter(f"{folder}/mixture.wav", rate, 1) as writer:  # written a minute at a time
    while left:
        n = min(left, 60 * rate)
        writer.write(0.1 * torch.randn(1, n, generator=generator))
        left -= n
separator.separate_file(f"{folder}/mixture.wav", {s: f"{folder}/{s}.wav" for s in separator.stems})
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def _peak_bytes(folder: Path, seconds: float) -> int:
    folder.mkdir()
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, str(seconds), str(RATE), str(folder)],
        cwd=REPO,
        check=True,
        capture_output=True,
        text=True,
        timeout=900,
    )
    for stem in STEMS:
        info = audio_info(folder / f"{stem}.wav")
        assert (info.frames, info.sample_rate, info.channels) == (round(seconds * RATE), RATE, 1)
    return int(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_one_hour_separates_in_the_memory_of_twenty_minutes(tmp_path: Path) -> None:
    shorter = _peak_bytes(tmp_path / "short", 20 * 60)
    longer = _peak_bytes(tmp_path / "long", 60 * 60)
    held_per_song_buffer = 40 * 60 * RATE * 4  # one float32 copy of the extra 40 minutes: 73 MiB
    assert longer - shorter < held_per_song_buffer, f"peak grew by {(longer - shorter) / 2**20:.0f} MiB from 20 to 60 minutes"
