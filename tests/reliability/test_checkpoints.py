"""Untrusted checkpoints: weights in safetensors, configs in JSON, pickles only with
``weights_only=True``, corruption caught by the checksums, incompatible weights named.

Teacher checkpoints (.pt/.th/.ckpt pickles, malicious ones included) are covered by
tests/teachers/test_checkpoint.py; here the same attack targets tokensep's own checkpoints.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from pathlib import Path

import pytest
import soundfile as sf
import torch

from tokensep_core.cli.main import main
from tokensep_core.errors import CheckpointError, RegistryError
from tokensep_core.plugins import load_plugins
from tokensep_core.separation.separator import GenerativeSeparator
from tokensep_core.training.checkpoint import CHECKSUMS, read_torch, resolve_checkpoint

REPO = Path(__file__).resolve().parents[2]


class _RunsCode:
    """Unpickling this would run a shell command that creates ``marker``."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def _copy(tiny_model: Path, tmp_path: Path) -> Path:
    """A copy of the tiny model's checkpoint that a test may damage."""
    return Path(shutil.copytree(resolve_checkpoint(tiny_model), tmp_path / "step_00000002"))


def _resign(checkpoint: Path) -> None:
    """Recompute checksums.json, as someone who edits a checkpoint by hand would."""
    sums = {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(checkpoint.iterdir()) if p.name != CHECKSUMS}
    (checkpoint / CHECKSUMS).write_text(json.dumps({"step": 2, "sha256": sums}))


def _separate_cli(checkpoint: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    """Run ``tokensep separate`` with ``checkpoint``; -> its one error line (exit code 1, no output)."""
    song = tmp_path / "song.wav"
    sf.write(song, [[0.1]] * 800, 16000)
    out = tmp_path / "out"
    assert main(["separate", str(song), "-n", str(checkpoint), "-o", str(out)]) == 1
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("tokensep: error: ")
    assert not out.exists() or not any(p.is_file() for p in out.rglob("*"))
    return err[0]


def test_weights_are_safetensors_configs_json_and_loading_never_unpickles(tiny_model: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    checkpoint = resolve_checkpoint(tiny_model)
    kinds = {p.suffix for p in checkpoint.iterdir()}
    assert kinds == {".safetensors", ".json", ".pt"}
    # the only pickles are the trainer's optimizer and RNG state, never needed for separation
    assert sorted(p.name for p in checkpoint.glob("*.pt")) == ["optimizer.pt", "rng.pt"]

    def refuse(*args, **kwargs):
        raise AssertionError("from_pretrained must not unpickle anything")

    monkeypatch.setattr(torch, "load", refuse)
    separator = GenerativeSeparator.from_pretrained(tiny_model, device="cpu")
    assert separator.stems == ("vocals", "drums", "bass", "other")


def test_every_torch_load_in_the_code_is_weights_only() -> None:
    sources = [
        p
        for root in ("tokensep_core", "tokensep_codecs", "tokensep_encoders", "tokensep_lms", "plugins")
        for p in (REPO / root).rglob("*.py")
    ]
    assert len(sources) > 20
    calls = 0
    for path in sources:
        text = path.read_text()
        for match in re.finditer(r"torch\.load\(([^()]*(?:\([^()]*\)[^()]*)*)\)", text):
            calls += 1
            assert "weights_only=True" in match.group(1), f"{path}: torch.load without weights_only=True"
        assert not re.search(r"\bpickle\.loads?\(|allow_pickle=True|torch\.jit\.load\(", text), f"{path}: loads pickles"
    assert calls >= 3


def test_malicious_training_state_is_refused_without_running_it(tiny_model: Path, tmp_path: Path) -> None:
    checkpoint = _copy(tiny_model, tmp_path)
    marker = tmp_path / "pwned"
    torch.save({"ranks": [_RunsCode(marker)]}, checkpoint / "rng.pt")
    _resign(checkpoint)  # the checksums match: only weights_only stands in the way
    with pytest.raises(CheckpointError, match=r"rng\.pt: unreadable") as info:
        read_torch(checkpoint, "rng")
    assert "\n" not in str(info.value)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("damage", "message"),
    [
        ("flip", r"lm\.safetensors: corrupted \(sha256 differs from checksums\.json\)"),
        ("truncate", r"lm\.safetensors: corrupted \(sha256 differs from checksums\.json\)"),
        ("delete", r"lm\.safetensors: missing from checkpoint"),
        ("truncate_checksums", r"checksums\.json: unreadable"),
        ("no_checksums", r"not a complete checkpoint \(no checksums\.json\)"),
    ],
)
def test_corrupted_or_truncated_checkpoint_is_detected(
    damage: str, message: str, tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    checkpoint = _copy(tiny_model, tmp_path)
    weights = checkpoint / "lm.safetensors"
    data = weights.read_bytes()
    if damage == "flip":
        weights.write_bytes(data[:-9] + bytes([data[-9] ^ 0x01]) + data[-8:])
    elif damage == "truncate":
        weights.write_bytes(data[: len(data) // 2])
    elif damage == "delete":
        weights.unlink()
    elif damage == "truncate_checksums":
        (checkpoint / CHECKSUMS).write_text((checkpoint / CHECKSUMS).read_text()[:20])
    else:
        (checkpoint / CHECKSUMS).unlink()
    with pytest.raises(CheckpointError, match=message) as info:
        GenerativeSeparator.from_pretrained(checkpoint, device="cpu")
    assert "\n" not in str(info.value)
    assert re.search(message, _separate_cli(checkpoint, tmp_path, capsys))


def test_weights_of_another_lm_width_name_the_mismatch(tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    checkpoint = _copy(tiny_model, tmp_path)
    config = json.loads((checkpoint / "config.json").read_text())
    assert config["task"]["model"]["lm"]["params"] == {"preset": "tiny"}  # width 32
    config["task"]["model"]["lm"]["params"]["width"] = 48
    (checkpoint / "config.json").write_text(json.dumps(config))
    _resign(checkpoint)
    # the encoder's output width follows the LM's, so the first module that differs may be either
    expected = r"(encoder|lm)\.safetensors: does not match module '(encoder|lm)': '[\w.]+' has shape \[\d+(, \d+)*\], the configured model needs \[\d+(, \d+)*\]"
    with pytest.raises(CheckpointError, match=expected) as info:
        GenerativeSeparator.from_pretrained(checkpoint, device="cpu")
    assert "32" in str(info.value) and "48" in str(info.value)
    assert re.search(expected, _separate_cli(checkpoint, tmp_path, capsys))


def test_a_config_that_is_not_a_separator_is_named(tiny_model: Path, tmp_path: Path) -> None:
    checkpoint = _copy(tiny_model, tmp_path)
    (checkpoint / "config.json").write_text(json.dumps({"task": {"codec": {"name": "debug"}}}))
    _resign(checkpoint)
    with pytest.raises(CheckpointError, match=r"not a separator checkpoint \(config\.json has no task\.model\)"):
        GenerativeSeparator.from_pretrained(checkpoint, device="cpu")


def test_a_checkpoint_records_which_distribution_provided_each_component(tiny_model: Path) -> None:
    config = json.loads((resolve_checkpoint(tiny_model) / "config.json").read_text())
    version = load_plugins(autoload=False).providers["tokensep_codecs.plugin"].version
    assert config["components"] == {
        "codec": {"name": "debug", "provider": "tokensep", "version": version},
        "encoder": {"name": "debug", "provider": "tokensep", "version": version},
        "lm": {"name": "llama", "provider": "tokensep", "version": version},
        "pattern": {"name": "delay", "provider": "tokensep", "version": version},
        "track_order": {"name": "sequential", "provider": "tokensep", "version": version},
    }


@pytest.mark.parametrize(
    ("provider", "expected"),
    [
        (
            "tokensep-vanished",
            r"codec 'vanished' was provided by tokensep-vanished 0\.3\.0, which is not installed \(pip install tokensep-vanished\)$",
        ),
        (
            "pytest",
            r"codec 'vanished' was provided by pytest 0\.3\.0; pytest [\w.]+ is installed but does not register it \(see `tokensep plugins`\)$",
        ),
    ],
)
def test_a_component_whose_provider_is_missing_names_the_package_to_install(
    tiny_model: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], provider: str, expected: str
) -> None:
    checkpoint = _copy(tiny_model, tmp_path)
    config = json.loads((checkpoint / "config.json").read_text())
    config["task"]["model"]["codec"] = {"name": "vanished", "params": {}}
    config["components"]["codec"] = {"name": "vanished", "provider": provider, "version": "0.3.0"}
    (checkpoint / "config.json").write_text(json.dumps(config))
    _resign(checkpoint)
    with pytest.raises(RegistryError, match=f"^{re.escape(str(checkpoint / 'config.json'))}: {expected}"):
        GenerativeSeparator.from_pretrained(checkpoint, device="cpu")
    assert re.search(expected, _separate_cli(checkpoint, tmp_path, capsys))


def test_a_checkpoint_without_the_record_loads_and_export_adds_it(tiny_model: Path, tmp_path: Path) -> None:
    checkpoint = _copy(tiny_model, tmp_path)
    config = json.loads((checkpoint / "config.json").read_text())
    record = config.pop("components")
    (checkpoint / "config.json").write_text(json.dumps(config))
    _resign(checkpoint)
    assert GenerativeSeparator.from_pretrained(checkpoint, device="cpu").stems == ("vocals", "drums", "bass", "other")
    assert main(["export", str(checkpoint), str(tmp_path / "model")]) == 0
    assert json.loads((tmp_path / "model" / "config.json").read_text())["components"] == record
    shipped = GenerativeSeparator.from_pretrained(REPO / "pretrained" / "separator-small", device="cpu")  # saved before the record
    assert shipped.pipeline.config.codec.name == "hcodec"
