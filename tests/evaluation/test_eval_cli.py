"""``tokensep eval separator``: folders and dataset specs, checkpoints and registered baselines."""

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
import torch
import yaml

from tokensep_core.cli.main import main
from tokensep_core.data.writer import write_synthetic_dataset
from tokensep_core.evaluation.machine import machine_line
from tokensep_core.plugins import load_registry
from tokensep_core.separation.training import build_separator_training
from tokensep_core.training import TrainerConfig, train

SYNTH = {"songs": 3, "seconds": 1.0, "sample_rate": 16000, "seed": 5, "test_fraction": 0.34}


@pytest.fixture(scope="module")
def data_dir(tmp_path_factory):
    root = tmp_path_factory.mktemp("data")
    renderer = load_registry().build("renderer", "procedural")
    write_synthetic_dataset(
        root,
        SYNTH["songs"],
        SYNTH["seconds"],
        SYNTH["sample_rate"],
        SYNTH["seed"],
        renderer,
        test_fraction=SYNTH["test_fraction"],
        progress=False,
    )
    return root


def test_oracle_on_a_folder_writes_stems_and_tables(data_dir, tmp_path, capsys) -> None:
    out = tmp_path / "out"
    assert main(["eval", "separator", "oracle", str(data_dir), "-o", str(out), "--metrics", "si_sdr,usdr"]) == 0
    results = json.loads((out / "results.json").read_text())
    songs = sorted(p.name for p in (data_dir / "test").iterdir())
    assert [r["song"] for r in results["songs"]] == songs
    assert results["summary"]["drums"]["si_sdr"] > 60  # the oracle is (numerically) perfect
    assert results["songs"][0]["audio_seconds"] == pytest.approx(1.0)  # evaluated at the files' 16 kHz
    assert sorted(p.name for p in (out / "stems" / songs[0]).iterdir()) == ["bass.wav", "drums.wav", "other.wav", "vocals.wav"]
    assert "| drums |" in capsys.readouterr().out


@pytest.mark.slow
def test_a_trained_checkpoint_on_a_dataset_spec_with_two_seeds(tmp_path, capsys) -> None:
    sections = {
        "model": {"codec": {"name": "debug"}, "encoder": {"name": "debug"}, "lm": {"name": "llama", "params": {"preset": "tiny"}}},
        "data": {"name": "synthetic", "params": {**SYNTH, "split": "train"}},
        "augment": {"seconds": 0.5, "examples_per_epoch": 8},
        "inference": {"segment_seconds": 0.5, "batch_size": 4},
    }
    task, examples = build_separator_training(sections, "tiny")
    train(task, TrainerConfig(steps=2, batch_size=2, checkpoint_every=0, device="cpu"), tmp_path / "run", examples)
    spec = tmp_path / "test.yaml"
    spec.write_text(yaml.safe_dump({"name": "synthetic", "params": {**SYNTH, "split": "test"}}))
    out = tmp_path / "out"
    argv = [
        "eval",
        "separator",
        str(tmp_path / "run"),
        "--data-config",
        str(spec),
        "-o",
        str(out),
        "--metrics",
        "si_sdr",
        "--seed",
        "0",
        "--seed",
        "1",
        "--no-stems",
        "-d",
        "cpu",
    ]
    assert main(argv) == 0
    results = json.loads((out / "results.json").read_text())
    assert [r["seed"] for r in results["songs"]] == [0, 1]
    first, second = (r["scores"]["vocals"]["si_sdr"] for r in results["songs"])
    assert first != second  # two sampling seeds, two different estimates
    assert results["real_time_factor"] > 0 and not (out / "stems").exists()
    # --params overrides the checkpoint's inference settings: greedy decoding ignores the seed, so
    # the song is separated once, like any deterministic separator's
    assert main([*argv[:5], "-o", str(tmp_path / "greedy"), *argv[7:], "--params", '{"sampling": {"greedy": true}}']) == 0
    greedy = json.loads((tmp_path / "greedy" / "results.json").read_text())["songs"]
    assert [r["seed"] for r in greedy] == [0]
    assert main([*argv[:5], "-o", str(tmp_path / "bad"), *argv[7:], "--params", '{"overlap": 2}']) == 1
    # a draw setting beside greedy decoding would change nothing: refused, naming it
    assert main([*argv[:5], "-o", str(tmp_path / "bad"), *argv[7:], "--params", '{"sampling": {"greedy": true, "top_k": 5}}']) == 1
    assert "--params: sampling.top_k has no effect with greedy decoding" in capsys.readouterr().err


def test_the_summary_records_its_provenance(data_dir, tmp_path, monkeypatch) -> None:
    """summary.md ends with the command, code version (git commit) and machine (threads, device);
    results.json records the same."""
    out = tmp_path / "out"
    argv = ["eval", "separator", "oracle", str(data_dir), "-o", str(out), "--metrics", "si_sdr", "--no-stems", "-d", "cpu"]
    monkeypatch.setattr(sys, "argv", ["/venv/bin/tokensep", *argv])  # as the console script sees it
    assert main(argv) == 0
    results = json.loads((out / "results.json").read_text())
    repo = Path(__file__).resolve().parents[2]
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()
    assert re.fullmatch(f"{commit}(-dirty)?", results["code_version"])
    assert results["command"] == "tokensep " + " ".join(argv)
    assert results["machine"]["threads"] == torch.get_num_threads() and results["machine"]["device"] == "cpu"
    block = (out / "summary.md").read_text().split("\n## Provenance\n\n")[1]
    assert block == (
        f"- Command: {results['command']}\n- Code: tokensep {results['code_version']}\n- Machine: {machine_line(results['machine'])}\n"
    )
    assert f"torch {torch.__version__}, {torch.get_num_threads()} thread" in block and "device cpu" in block


def test_user_errors_are_one_line(data_dir, tmp_path, capsys) -> None:
    assert main(["eval", "separator", "no_such_model", str(data_dir), "-o", str(tmp_path)]) == 1
    assert "neither a checkpoint directory nor a registered separator" in capsys.readouterr().err
    assert main(["eval", "separator", "oracle", "-o", str(tmp_path)]) == 1
    assert "give either DATA" in capsys.readouterr().err
    assert main(["eval", "separator", "oracle", str(data_dir), "--metrics", "si_sdr,nope", "-o", str(tmp_path)]) == 1
    assert "unknown metric 'nope'" in capsys.readouterr().err


def test_mismatched_offset_reaches_the_control(tmp_path, capsys) -> None:
    spec = tmp_path / "test.yaml"
    params = {"songs": 8, "seconds": 1.0, "sample_rate": 8000, "seed": 0, "test_fraction": 0.5, "split": "test"}
    spec.write_text(yaml.safe_dump({"name": "synthetic", "params": params}))
    argv = ["eval", "separator", "oracle", "--data-config", str(spec), "--metrics", "si_sdr", "--no-stems"]
    assert main([*argv, "-o", str(tmp_path / "out"), "--mismatched-offset", "3"]) == 0
    results = json.loads((tmp_path / "out" / "results.json").read_text())
    songs = [r["song"] for r in results["songs"]]
    assert results["mismatched_offset"] == 3 and len(songs) == 4
    assert [(r["song"], r["reference_song"]) for r in results["mismatched"]] == [(s, songs[(i + 3) % 4]) for i, s in enumerate(songs)]
    assert "song i against song i+3 mod n" in capsys.readouterr().out
    assert main([*argv, "-o", str(tmp_path / "bad"), "--mismatched-offset", "4"]) == 1
    assert "--mismatched-offset: mismatched_offset 4 needs at least 5 songs, got 4" in capsys.readouterr().err
    assert not (tmp_path / "bad").exists()  # refused before anything was separated
