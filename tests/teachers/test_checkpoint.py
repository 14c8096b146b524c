"""Checkpoint files: safetensors and tensor-only pickles load; everything else is refused."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
import torch
from safetensors.torch import save_file

pytest.importorskip("tokensep_teachers", reason="plugin not installed: pip install -e plugins/tokensep-teachers")

from tokensep_core.errors import CheckpointError
from tokensep_teachers.checkpoint import load_weights, read_state_dict


class _RunsCode:
    """Unpickling this would run a command that creates a marker file."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_safetensors_and_nested_torch_pickle_round_trip(tmp_path: Path) -> None:
    net = torch.nn.Linear(3, 2)
    save_file(net.state_dict(), tmp_path / "w.safetensors")
    torch.save({"state_dict": net.state_dict(), "step": 10}, tmp_path / "w.pt")
    for name in ("w.safetensors", "w.pt"):
        other = torch.nn.Linear(3, 2)
        load_weights(other, tmp_path / name, "linear")
        assert torch.equal(other.weight, net.weight)


def test_malicious_pickle_is_refused_without_running_it(tmp_path: Path) -> None:
    marker = tmp_path / "pwned"
    path = tmp_path / "evil.th"
    torch.save({"weight": torch.zeros(1), "payload": _RunsCode(marker)}, path)
    with pytest.raises(CheckpointError, match=r"evil\.th: refused"):
        read_state_dict(path)
    assert not marker.exists()


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("absent.safetensors", None, "no such checkpoint file"),
        ("broken.safetensors", b"not a safetensors file", "not a readable safetensors file"),
        ("broken.pt", b"\x80\x04garbage", "not a readable torch checkpoint|refused"),
        ("weights.bin", b"x", "unsupported checkpoint format"),
    ],
)
def test_bad_files_are_one_line_errors_naming_the_file(tmp_path: Path, name: str, content: bytes | None, message: str) -> None:
    path = tmp_path / name
    if content is not None:
        path.write_bytes(content)
    with pytest.raises(CheckpointError, match=message) as info:
        read_state_dict(path)
    assert str(path) in str(info.value) and "\n" not in str(info.value)


def test_mismatched_architecture_is_named(tmp_path: Path) -> None:
    save_file(torch.nn.Linear(4, 2).state_dict(), tmp_path / "w.safetensors")
    with pytest.raises(CheckpointError, match=r"does not match the configured linear .*'weight' has shape \[2, 4\]"):
        load_weights(torch.nn.Linear(3, 2), tmp_path / "w.safetensors", "linear")
    save_file({"other": torch.zeros(1)}, tmp_path / "x.safetensors")
    with pytest.raises(CheckpointError, match="2 missing, 1 unexpected"):
        load_weights(torch.nn.Linear(3, 2), tmp_path / "x.safetensors", "linear")
