"""benchmarks/real/gpu/pack.py: a token folder packed (codes as they are, mixtures as Ogg Opus) and
unpacked is a token folder with the same index, the same codes and the mixture close to the
original at its original shape and dtype; refusals are one line with exit status 1."""

import json
import subprocess
import sys
from pathlib import Path

import torch
from safetensors.torch import load_file

from tokensep_core.cli.main import main
from tokensep_core.data.token_shards import TokenShards, TokenShardsConfig

PACK = Path(__file__).resolve().parents[2] / "benchmarks" / "real" / "gpu" / "pack.py"


def _is_audio(key: str) -> bool:
    """``i/mixture``, the mixture audio (not ``i/codes/mixture``, its codes)."""
    return key.split("/")[1:] == ["mixture"]


def _pack(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(PACK), *map(str, args)], capture_output=True, text=True, timeout=300)


def test_pack_then_unpack_gives_the_token_folder_back(tiny_codec_run, tiny_songs, tmp_path) -> None:
    tokens, packed, back = tmp_path / "tokens", tmp_path / "pack", tmp_path / "back"
    assert (
        main(["tokenize", str(tiny_codec_run), str(tiny_songs), str(tokens), "--songs-per-shard", "2", "-d", "cpu", "--no-progress"]) == 0
    )
    done = _pack("pack", tokens, packed, "--bitrate-level", "0.5")
    assert done.returncode == 0, done.stderr
    record = json.loads((packed / "pack.json").read_text())
    assert record["songs"] == 3 and record["opus_mb"] < record["original_mixture_mb"]
    packed_tensors = {key: t for shard in packed.glob("shards/*.safetensors") for key, t in load_file(str(shard)).items()}
    assert packed_tensors and not any(_is_audio(key) for key in packed_tensors)  # the mixture audio travels as Opus only
    assert {t.dtype for t in packed_tensors.values()} == {torch.uint8}  # the tiny codec's ids fit a byte

    assert _pack("unpack", packed, back).returncode == 0
    assert (back / "index.json").read_text() == (tokens / "index.json").read_text()
    for shard in sorted(tokens.glob("shards/*.safetensors")):
        original, restored = load_file(str(shard)), load_file(str(back / "shards" / shard.name))
        assert original.keys() == restored.keys()
        for key, tensor in original.items():
            if _is_audio(key):
                assert restored[key].shape == tensor.shape and restored[key].dtype == tensor.dtype
                error = (restored[key].float() - tensor.float()).pow(2).mean() / tensor.float().pow(2).mean()
                assert error < 0.1  # lossy, but the same signal: above 10 dB SNR at 128 kbit/s per channel
            else:
                assert restored[key].dtype == tensor.dtype and torch.equal(restored[key], tensor)  # the codes travel exactly
    assert len(TokenShards(TokenShardsConfig(root=back, split=None))) == 3  # training reads it


def test_refusals_are_one_line(tmp_path) -> None:
    (tmp_path / "busy").mkdir()
    (tmp_path / "busy" / "file").write_text("x")
    done = _pack("unpack", tmp_path / "nothing", tmp_path / "out")
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and "not a pack folder" in done.stderr
    done = _pack("pack", tmp_path / "nothing", tmp_path / "busy")
    assert done.returncode == 1 and done.stderr.count("\n") == 1 and done.stderr.startswith("pack.py: error: ")
