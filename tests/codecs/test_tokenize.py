"""``tokensep tokenize``: shards hold exactly the codec's codes, resume after a kill, and the
separator trains from them."""

import json
import math

import pytest
import torch
from safetensors.torch import load_file

from tokensep_codecs.inference import load_codec, to_items
from tokensep_codecs.tokenize import tokenize
from tokensep_core.audio.io import convert
from tokensep_core.cli.main import main
from tokensep_core.data.musdb import MusdbDataset
from tokensep_core.data.token_shards import TokenShards, TokenShardsConfig, token_crops
from tokensep_core.errors import ConfigError
from tokensep_core.plugins import load_registry
from tokensep_core.separation.training import build_separator_training
from tokensep_core.training import TrainerConfig, train

from .conftest import TINY_CODEC

STEMS = ["vocals", "drums", "bass", "other"]


def _datasets(root):
    return {split: MusdbDataset(MusdbDataset.Config(root=root, split=split, sample_rate=16000)) for split in ("train", "test")}


def test_shards_hold_the_codecs_codes_of_every_stem_and_mixture(tiny_codec_run, tiny_songs, tmp_path):
    out = tmp_path / "tokens"
    assert main(["tokenize", str(tiny_codec_run), str(tiny_songs), str(out), "--songs-per-shard", "2", "-d", "cpu", "--no-progress"]) == 0
    index = json.loads((out / "index.json").read_text())
    assert index["complete"] and [s["split"] for s in index["songs"]] == ["train", "train", "test"]
    assert sorted({s["shard"] for s in index["songs"]}) == ["shards/00000.safetensors", "shards/00001.safetensors"]
    assert (
        index["codec"]["weights_sha256"]
        == json.loads((tiny_codec_run / "checkpoints" / "step_00000002" / "checksums.json").read_text())["sha256"]["codec.safetensors"]
    )

    codec = load_codec(load_registry(), checkpoint=tiny_codec_run).codec
    datasets = _datasets(tiny_songs)
    songs = [datasets["train"][0], datasets["train"][1], datasets["test"][0]]
    for entry, song in zip(index["songs"], songs):
        assert entry["name"] == song.name and entry["frames"] == math.ceil(1.5 * 16000 / codec.hop_length)
        tensors = load_file(str(out / entry["shard"]))
        for name in [*STEMS, "mixture"]:
            wav = song.stems[name] if name != "mixture" else song.mixture
            stored = tensors[f"{entry['key']}/codes/{name}"]
            assert stored.dtype == torch.int16 and stored.shape == (2, 4, entry["frames"])  # stereo folded into 2 mono items
            with torch.inference_mode():
                assert torch.equal(stored.long(), codec.encode(to_items(codec, wav, 16000)))
        audio = tensors[f"{entry['key']}/mixture"]
        assert audio.shape == (2, entry["frames"] * codec.hop_length)
        torch.testing.assert_close(audio[:, : song.mixture.shape[-1]].float(), convert(song.mixture, 16000, 16000, 2), atol=2e-3, rtol=0)


class _Killed(Exception):
    pass


class _DiesAt:
    """A dataset that fails when song ``index`` is read (a killed run)."""

    def __init__(self, dataset, index):
        self.dataset, self.index, self.stems = dataset, index, dataset.stems

    def __len__(self):
        return len(self.dataset)

    def __getitem__(self, index):
        if index == self.index:
            raise _Killed
        return self.dataset[index]


def test_a_killed_run_resumes_after_its_last_shard(tiny_codec_run, tiny_songs, tmp_path):
    loaded = load_codec(load_registry(), checkpoint=tiny_codec_run)
    source = {"data": "tiny"}
    datasets = _datasets(tiny_songs)
    out = tmp_path / "resumed"
    with pytest.raises(_Killed):
        tokenize(loaded, {"train": datasets["train"], "test": _DiesAt(datasets["test"], 0)}, out, source, songs_per_shard=1, progress=False)
    partial = json.loads((out / "index.json").read_text())
    assert not partial["complete"] and len(partial["songs"]) == 2
    first_shard = (out / "shards" / "00000.safetensors").stat()

    # the resumed run must not re-read the songs already stored
    resumed = tokenize(
        loaded, {"train": _DiesAt(datasets["train"], 0), "test": datasets["test"]}, out, source, songs_per_shard=1, progress=False
    )
    straight = tokenize(loaded, datasets, tmp_path / "straight", source, songs_per_shard=1, progress=False)
    assert resumed == straight
    assert (out / "shards" / "00000.safetensors").stat().st_mtime_ns == first_shard.st_mtime_ns
    for number in range(3):
        name = f"shards/{number:05d}.safetensors"
        a, b = load_file(str(out / name)), load_file(str(tmp_path / "straight" / name))
        assert a.keys() == b.keys() and all(torch.equal(a[k], b[k]) for k in a)
    with pytest.raises(ConfigError, match="another codec"):
        tokenize(loaded, datasets, out, {"data": "other"}, songs_per_shard=1, progress=False)


@pytest.mark.slow
def test_the_separator_trains_from_shards(tiny_codec_run, tiny_songs, tmp_path):
    tokens = tmp_path / "tokens"
    assert main(["tokenize", str(tiny_codec_run), str(tiny_songs), str(tokens), "-d", "cpu", "--no-progress"]) == 0
    shards = TokenShards(TokenShardsConfig(root=tokens))
    crops = token_crops(shards, 0.5, 4)
    item = crops[0]
    assert item["mixture"].shape == (2, 50 * 160) and item["codes"]["bass"].shape == (2, 4, 50)

    sections = {
        "model": {
            "codec": TINY_CODEC,
            "codec_checkpoint": str(tiny_codec_run),
            "encoder": {"name": "debug"},
            "lm": {"name": "llama", "params": {"preset": "tiny"}},
        },
        "tokens": {"root": str(tokens)},
        "augment": {"seconds": 0.5, "examples_per_epoch": 4},
        "loss": {"allow_degenerate_codes": True},  # a codec trained for 2 steps still gives one acoustic id per frame
    }
    task, examples = build_separator_training(sections, "from tokens")
    result = train(task, TrainerConfig(steps=3, batch_size=2, checkpoint_every=0, log_every=1, device="cpu"), tmp_path / "run", examples)
    assert result.step == 3 and math.isfinite(result.metrics["model/ce"])
    assert (result.checkpoint / "lm.safetensors").is_file()

    other = {
        **sections,
        "model": {
            **sections["model"],
            "codec_checkpoint": None,
            "codec": {"name": "hcodec", "params": {"preset": "tiny", "codebook_size": 32}},
        },
    }
    with pytest.raises(ConfigError, match="codebook_size 64, the model's codec 32"):
        build_separator_training(other, "from tokens")
