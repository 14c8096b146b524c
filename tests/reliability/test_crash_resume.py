"""SIGKILL in the middle of long jobs: a restart resumes from what is complete, never re-uses a
half-written file, and ends with exactly the output of an uninterrupted run.

Training: tests/training/test_trainer_subprocess.py kills the trainer (often mid-checkpoint) and
checks the resumed losses and weights against an uninterrupted run. Benchmark grids: resuming
after a finished/failed row is tested in tests/bench, a SIGKILL mid-row in test_bench_kill.py.
"""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
import soundfile as sf
import torch

from tokensep_core.audio.io import write_audio

REPO = Path(__file__).resolve().parents[2]
TOKENSEP = (sys.executable, "-m", "tokensep_core.cli.main")
SONG_FILES = ("mixture.wav", "vocals.wav", "drums.wav", "bass.wav", "other.wav")


def _songs_done(out: Path) -> list[Path]:
    """Visible song folders (hidden ones are a writer's temporary folders). Polled while the
    writer runs: ``os.walk`` skips a temporary folder renamed away mid-walk (``rglob`` raised)."""
    done = []
    for root, folders, files in os.walk(out):
        folders[:] = [name for name in folders if not name.startswith(".")]
        if "mixture.wav" in files:
            done.append(Path(root))
    return done


def _snapshot(out: Path) -> dict[str, object]:
    """Every file under ``out``: audio as (rate, channels, subtype, samples), others as bytes
    (float WAV files carry libsndfile's PEAK chunk with a timestamp, so their bytes differ)."""
    snapshot: dict[str, object] = {}
    for path in sorted(p for p in out.rglob("*") if p.is_file()):
        if path.suffix == ".wav":
            info = sf.info(str(path))
            snapshot[path.relative_to(out).as_posix()] = (
                info.samplerate,
                info.channels,
                info.subtype,
                sf.read(str(path), dtype="float32")[0].tobytes(),
            )
        else:
            snapshot[path.relative_to(out).as_posix()] = path.read_bytes()
    return snapshot


def _kill_during(argv: list[str], out: Path, seed: int, progress: Callable[[Path], int], after: int = 2) -> None:
    """Start ``tokensep argv``, wait until ``progress(out) >= after``, then SIGKILL it a seeded
    random moment later (within about two more units of work)."""
    started = time.monotonic()
    proc = subprocess.Popen([*TOKENSEP, *argv], cwd=REPO, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        first: tuple[float, int] | None = None  # (time, units) when the first unit was seen
        while True:
            units, now = progress(out), time.monotonic()
            if units >= 1 and first is None:
                first = (now, units)
            if units >= after:
                break
            assert proc.poll() is None, f"the job exited ({proc.returncode}) before it could be killed"
            assert now - started < 180, "the job made no progress"
            time.sleep(0.005)
        # time per unit from what was seen; units that appeared together in one poll give 0 (kill
        # at once), never the job's start-up time (which once let a fast job finish first)
        per_unit = (now - first[0]) / (units - first[1]) if units > first[1] else 0.0
        time.sleep(random.Random(seed).uniform(0.0, 2.0) * per_unit)
        assert proc.poll() is None, "the job finished before the kill: make it longer"
        os.kill(proc.pid, signal.SIGKILL)
    finally:
        proc.wait()
    assert proc.returncode == -signal.SIGKILL


def _check_visible_songs_complete(out: Path) -> None:
    for folder in _songs_done(out):
        assert sorted(p.name for p in folder.iterdir()) == sorted(SONG_FILES), f"{folder} is incomplete"


@pytest.mark.slow
@pytest.mark.parametrize("seed", [3])
def test_data_synth_killed_and_rerun_equals_an_uninterrupted_run(tmp_path: Path, seed: int) -> None:
    args = ["--songs", "20", "--seconds", "1", "--sample-rate", "16000", "--seed", "5", "--test-fraction", "0.25", "--no-progress"]
    reference, killed = tmp_path / "reference", tmp_path / "killed"
    subprocess.run([*TOKENSEP, "data", "synth", str(reference), *args], cwd=REPO, check=True, capture_output=True, timeout=300)

    _kill_during(["data", "synth", str(killed), *args], killed, seed, lambda out: len(_songs_done(out)))
    _check_visible_songs_complete(killed)
    assert 2 <= len(_songs_done(killed)) < 20

    result = subprocess.run(
        [*TOKENSEP, "data", "synth", str(killed), *args], cwd=REPO, check=True, capture_output=True, text=True, timeout=300
    )
    assert "already there" in result.stdout
    assert _snapshot(killed) == _snapshot(reference), "no leftovers, every file identical"


@pytest.mark.slow
@pytest.mark.parametrize("seed", [3])
def test_pseudolabel_killed_and_rerun_equals_an_uninterrupted_run(tmp_path: Path, seed: int) -> None:
    # Many short songs: the mixture-copy teacher writes one in a few ms, and the kill must land
    # before the last one even on a fast machine (12 songs of 1 s once finished first in CI).
    source, songs = tmp_path / "unlabeled", 150
    gen = torch.Generator().manual_seed(0)
    for i in range(songs):
        write_audio(source / f"song{i:03d}.wav", 0.1 * torch.randn(1, 8000, generator=gen), 16000, "FLOAT")
    reference, killed = tmp_path / "reference", tmp_path / "killed"

    def argv(out: Path) -> list[str]:
        return ["pseudolabel", str(source), str(out), "--teacher", "mixture_copy"]

    subprocess.run([*TOKENSEP, *argv(reference)], cwd=REPO, check=True, capture_output=True, timeout=300)

    _kill_during(argv(killed), killed, seed, lambda out: len(_songs_done(out)))
    _check_visible_songs_complete(killed)
    assert 2 <= len(_songs_done(killed)) < songs

    result = subprocess.run([*TOKENSEP, *argv(killed)], cwd=REPO, check=True, capture_output=True, text=True, timeout=300)
    assert "already complete, 0 failed" in result.stdout
    assert _snapshot(killed) == _snapshot(reference), "no leftovers, every file identical"


@pytest.fixture(scope="module")
def songs_and_codec(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """(a MUSDB-layout folder of 6 synthetic songs of 1 s at 16 kHz, a tiny HCodec trained 1 step on it)."""
    from tokensep_codecs.training import build_codec_training
    from tokensep_core.data.writer import write_synthetic_dataset
    from tokensep_core.plugins import load_registry
    from tokensep_core.training import TrainerConfig, train

    songs, run_dir = tmp_path_factory.mktemp("songs"), tmp_path_factory.mktemp("codec_run")
    write_synthetic_dataset(songs, 6, 1.0, 16000, 11, load_registry().build("renderer", "procedural"), test_fraction=0.0, progress=False)
    sections = {
        "codec": {"name": "hcodec", "params": {"preset": "tiny"}},
        "data": {"name": "musdb", "params": {"root": str(songs), "sample_rate": 16000}},
        "augment": {"seconds": 0.5, "examples_per_epoch": 2},
    }
    task, examples = build_codec_training(sections, "tiny codec")
    train(task, TrainerConfig(steps=1, batch_size=1, checkpoint_every=0, device="cpu"), run_dir, examples)
    return songs, run_dir


def _shards(out: Path) -> int:
    return len(list((out / "shards").glob("[0-9]*.safetensors")))


def _tokens(out: Path) -> tuple[dict, dict[str, torch.Tensor]]:
    """(index.json, every tensor of every shard by shard/key), and no other file."""
    from safetensors.torch import load_file

    files = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    shards = [f for f in files if f.startswith("shards/")]
    assert files == ["index.json", *shards] and all(f.endswith(".safetensors") and "/." not in f for f in shards), files
    tensors = {f"{f}:{k}": v for f in shards for k, v in load_file(str(out / f)).items()}
    return json.loads((out / "index.json").read_text()), tensors


@pytest.mark.slow
@pytest.mark.parametrize("seed", [3])
def test_tokenize_killed_and_rerun_equals_an_uninterrupted_run(songs_and_codec: tuple[Path, Path], tmp_path: Path, seed: int) -> None:
    songs, codec_run = songs_and_codec

    def argv(out: Path) -> list[str]:
        return [
            "tokenize",
            str(codec_run),
            str(songs),
            str(out),
            "--songs-per-shard",
            "1",
            "--segment-seconds",
            "1",
            "--no-progress",
            "-d",
            "cpu",
        ]

    reference, killed = tmp_path / "reference", tmp_path / "killed"
    subprocess.run([*TOKENSEP, *argv(reference)], cwd=REPO, check=True, capture_output=True, timeout=300)

    _kill_during(argv(killed), killed, seed, _shards)
    index = json.loads((killed / "index.json").read_text())
    assert not index["complete"] and 1 <= len(index["songs"]) < 6

    subprocess.run([*TOKENSEP, *argv(killed)], cwd=REPO, check=True, capture_output=True, timeout=300)
    (index, tensors), (expected_index, expected) = _tokens(killed), _tokens(reference)
    assert index == expected_index and index["complete"] and len(index["songs"]) == 6
    assert tensors.keys() == expected.keys() and all(torch.equal(tensors[k], expected[k]) for k in tensors)
