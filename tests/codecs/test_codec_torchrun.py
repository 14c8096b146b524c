"""``tokensep train codec`` under torchrun with 2 CPU ranks writes the single-process checkpoint format."""

import os
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

from tokensep_core.plugins import load_registry
from tokensep_core.training.checkpoint import list_checkpoints, load_weights, read_json, read_torch, verify_checkpoint

from .conftest import TINY_CODEC

REPO = Path(__file__).resolve().parents[2]


@pytest.mark.slow
def test_two_ranks_train_a_codec_into_the_usual_checkpoint(tiny_songs, tiny_codec_run, tmp_path):
    config = tmp_path / "codec.yaml"
    config.write_text(
        yaml.safe_dump(
            {
                "codec": TINY_CODEC,
                "data": {"name": "musdb", "params": {"root": str(tiny_songs), "sample_rate": 16000}},
                "augment": {"seconds": 0.5, "examples_per_epoch": 4},
                "trainer": {"steps": 2, "batch_size": 1, "checkpoint_every": 0, "device": "cpu", "lr": 1e-3},
            }
        )
    )
    torchrun = [sys.executable, "-m", "torch.distributed.run", "--standalone", "--nproc_per_node", "2"]
    cmd = [*torchrun, "-m", "tokensep_core.cli.main", "train", "codec", str(config), "--run-dir", str(tmp_path / "ddp")]
    done = subprocess.run(cmd, cwd=REPO, capture_output=True, text=True, timeout=300, env={**os.environ, "OMP_NUM_THREADS": "1"})
    assert done.returncode == 0, f"torchrun exited {done.returncode}:\n{done.stderr[-3000:]}"

    ddp = list_checkpoints(tmp_path / "ddp" / "checkpoints")[-1]
    single = list_checkpoints(tiny_codec_run / "checkpoints")[-1]  # the same config in one process
    assert ddp.name == single.name == "step_00000002"
    assert set(verify_checkpoint(ddp)) == set(verify_checkpoint(single))
    assert read_json(ddp, "config")["task"]["codec"] == read_json(single, "config")["task"]["codec"]
    assert read_json(ddp, "state")["world_size"] == 2 and len(read_torch(ddp, "rng")["ranks"]) == 2
    codec = load_registry().build("codec", TINY_CODEC)
    load_weights(ddp, {"codec": codec})  # strict: every key of the single-process format
