"""An interrupt that lands while output files are being created leaves no file behind."""

import signal
import tempfile

import numpy as np
import pytest
import soundfile as sf
import torch

import tokensep_core.audio.io as audio_io
from tokensep_core.runtime.signals import interrupts_held
from tokensep_core.separation.pipeline import PipelineConfig
from tokensep_core.separation.separator import GenerativeSeparator, InferenceConfig


@pytest.fixture(autouse=True)
def python_ctrl_c_handler():
    """Python's own SIGINT handler (KeyboardInterrupt), whatever the test process inherited: a
    process started in the background by a non-interactive shell starts with SIGINT ignored."""
    previous = signal.signal(signal.SIGINT, signal.default_int_handler)
    yield
    signal.signal(signal.SIGINT, previous)


def test_a_held_interrupt_is_delivered_after_the_block_and_handlers_are_restored() -> None:
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    reached_the_end = False
    with pytest.raises(KeyboardInterrupt):
        with interrupts_held():
            signal.raise_signal(signal.SIGINT)
            reached_the_end = True
    assert reached_the_end, "the interrupt cut the block short"
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before


def test_ctrl_c_right_after_a_temporary_file_is_made_leaves_no_file(tmp_path, monkeypatch) -> None:
    config = PipelineConfig.model_validate(
        {"codec": {"name": "debug"}, "encoder": {"name": "debug"}, "lm": {"name": "llama", "params": {"preset": "tiny"}}}
    )
    separator = GenerativeSeparator.build(config, inference=InferenceConfig(segment_seconds=0.25), device="cpu")
    song = tmp_path / "song.wav"
    sf.write(str(song), 0.1 * np.random.default_rng(0).standard_normal((4000, 2)), 16000)
    made, mkstemp = [], tempfile.mkstemp

    def mkstemp_then_ctrl_c(*args, **kwargs):
        result = mkstemp(*args, **kwargs)
        made.append(result[1])
        if len(made) == 2:  # the second writer's file exists, but its writer is not built yet
            signal.raise_signal(signal.SIGINT)
        return result

    monkeypatch.setattr(audio_io.tempfile, "mkstemp", mkstemp_then_ctrl_c)
    out = tmp_path / "out"
    with pytest.raises(KeyboardInterrupt):
        separator.separate_file(song, {stem: out / f"{stem}.wav" for stem in separator.stems})
    assert len(made) >= 2 and not out.exists()


def test_ctrl_c_while_the_files_are_put_in_place_leaves_none(tmp_path, monkeypatch) -> None:
    writers = [audio_io.AudioWriter(tmp_path / "out" / f"{name}.wav", 16000, 1) for name in ("a", "b", "c")]
    for writer in writers:
        writer.write(torch.zeros(1, 100))
    commit = audio_io.AudioWriter.commit
    calls = []

    def commit_then_ctrl_c(self):
        calls.append(self)
        placed = commit(self)
        if len(calls) == 2:  # the second file is in place, but not yet recorded as placed
            signal.raise_signal(signal.SIGINT)
        return placed

    monkeypatch.setattr(audio_io.AudioWriter, "commit", commit_then_ctrl_c)
    with pytest.raises(KeyboardInterrupt):
        audio_io.commit_all(writers)
    assert len(calls) == 2 and not (tmp_path / "out").exists()
