"""Training examples: crops, per-stem gain, channel swap, remixing, mixture = sum of stems, seeding."""

from __future__ import annotations

import numpy as np
import pytest
import torch
from torch.utils.data import DataLoader

from tokensep_core.audio.io import write_audio
from tokensep_core.data.sampling import AugmentConfig, TrainingExamples
from tokensep_core.data.stems_folder import StemsFolderDataset
from tokensep_core.errors import ConfigError
from tokensep_core.interfaces import Song, StemDataset

SR = 1000
SONGS = 6
LENGTH = 3000


def _songs(root, ramp: bool, scale: float = 1.0, songs: int = SONGS) -> StemsFolderDataset:
    """Songs whose stems are recognisable: stem s of song i holds value (i + 1) * 10 + s (plus,
    with ``ramp``, the sample index / (2 * LENGTH) < 0.5, to find crop offsets), / 100, times
    ``scale``, on the left channel; its negative at half that on the right."""
    offsets = torch.arange(LENGTH) / (2 * LENGTH) if ramp else torch.zeros(LENGTH)
    for i in range(songs):
        for s, stem in enumerate(("a", "b", "c")):
            left = scale * ((i + 1) * 10 + s + offsets) / 100
            write_audio(root / f"song{i}" / f"{stem}.wav", torch.stack([left, -left / 2]), SR, "FLOAT")
    return StemsFolderDataset(StemsFolderDataset.Config(root=root, sample_rate=SR))


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> StemsFolderDataset:
    return _songs(tmp_path_factory.mktemp("ramps"), ramp=True)


@pytest.fixture(scope="module")
def constant_dataset(tmp_path_factory) -> StemsFolderDataset:
    return _songs(tmp_path_factory.mktemp("constants"), ramp=False)


def test_crop_length_and_mixture_is_sum(dataset):
    examples = TrainingExamples(dataset, AugmentConfig(seconds=0.5, examples_per_epoch=8, seed=1))
    for item in examples:
        assert item["stems"].shape == (3, 2, 500) and item["mixture"].shape == (2, 500)
        assert torch.allclose(item["mixture"], item["stems"].sum(0))
    batch = next(iter(DataLoader(examples, batch_size=4)))
    assert batch["stems"].shape == (4, 3, 2, 500) and batch["songs"].shape == (4, 3)


def test_no_augmentation_is_an_exact_crop(dataset):
    config = AugmentConfig(seconds=0.5, examples_per_epoch=20, remix_probability=0.0, gain_db=(0, 0), channel_swap_probability=0.0, seed=2)
    starts = set()
    for item in TrainingExamples(dataset, config):
        songs = set(item["songs"].tolist())
        assert len(songs) == 1
        song = dataset[songs.pop()]
        offset = round((item["stems"][0, 0, 0].item() * 100 % 1) * 2 * LENGTH)
        starts.add(offset)
        expected = torch.stack([song.stems[s][:, offset : offset + 500] for s in ("a", "b", "c")])
        assert torch.equal(item["stems"], expected)
    assert len(starts) > 10  # random crop positions


def test_gain_swap_and_remix(constant_dataset):
    dataset = constant_dataset
    config = AugmentConfig(seconds=0.2, examples_per_epoch=40, remix_probability=1.0, gain_db=(-6, 6), channel_swap_probability=0.5, seed=3)
    gains, swaps, mixed_songs = [], [], 0
    for item in TrainingExamples(dataset, config):
        songs = item["songs"].tolist()
        mixed_songs += len(set(songs)) > 1
        for s, (wav, song) in enumerate(zip(item["stems"], songs)):
            reference = dataset.read_stem(song, "abc"[s], 0, 1)[:, 0]
            swapped = wav[0, 0].sign() != reference[0].sign()
            swaps.append(bool(swapped))
            expected = reference.flip(0) if swapped else reference
            gain = (wav[0, 0] / expected[0]).item()
            assert torch.allclose(wav, expected[:, None] * gain)
            gains.append(gain)
    gains = torch.tensor(gains)
    assert gains.min() >= 10 ** (-6 / 20) * 0.99 and gains.max() <= 10 ** (6 / 20) * 1.01
    assert gains.std() > 0.2  # really varies
    assert 0.25 < sum(swaps) / len(swaps) < 0.75
    assert mixed_songs > 30  # remixing takes stems from different songs


def test_seeded_and_epochs_differ(dataset):
    config = AugmentConfig(seconds=0.2, examples_per_epoch=4, seed=5)
    a, b = TrainingExamples(dataset, config), TrainingExamples(dataset, config)
    assert torch.equal(a[2]["stems"], b[2]["stems"])
    b.set_epoch(1)
    assert not torch.equal(a[2]["stems"], b[2]["stems"])
    unseeded = TrainingExamples(dataset, config.model_copy(update={"seed": None}))
    np.random.seed(0)
    first = unseeded[0]["stems"]
    np.random.seed(0)
    assert torch.equal(first, unseeded[0]["stems"])  # follows numpy's global generator


def test_stem_selection_and_errors(dataset):
    examples = TrainingExamples(dataset, AugmentConfig(seconds=0.1, examples_per_epoch=1, seed=0), stems=["c", "a"])
    item = examples[0]
    assert item["stems"].shape[0] == 2
    with pytest.raises(ConfigError, match="no stem vocals"):
        TrainingExamples(dataset, AugmentConfig(seconds=0.1), stems=["vocals"])
    with pytest.raises(ValueError, match="gain_db"):
        AugmentConfig(seconds=1, gain_db=(3, -3))


def test_any_stem_dataset_and_short_songs():
    class InMemory(StemDataset):
        stems, sample_rate = ("x",), SR

        def __len__(self):
            return 2

        def __getitem__(self, index):
            wav = torch.full((2, 100), float(index + 1))
            return Song(f"s{index}", SR, wav, {"x": wav})

    item = TrainingExamples(InMemory(), AugmentConfig(seconds=0.3, examples_per_epoch=1, gain_db=(0, 0), seed=0))[0]
    assert item["stems"].shape == (1, 2, 300)
    assert item["stems"][0, :, 100:].abs().sum() == 0 and item["stems"][0, :, :100].abs().min() > 0  # padded


def test_a_paired_dataset_is_cut_gained_and_swapped_with_its_stem(dataset, tmp_path):
    """Remixing, gains and swaps on: each paired stem is still its stem's exact crop, halved."""
    halved = _songs(tmp_path, ramp=True, scale=0.5)
    config = AugmentConfig(seconds=0.5, examples_per_epoch=12, remix_probability=0.7, channel_swap_probability=0.5, seed=5)
    items = list(TrainingExamples(dataset, config, paired=halved))
    for item in items:
        assert item["paired"].shape == item["stems"].shape
        assert torch.allclose(item["paired"], item["stems"] / 2, atol=1e-6)
    swapped = [bool(item["stems"][0, 0, 0] < 0) for item in items]
    assert any(swapped) and not all(swapped), "both channel orders occur"
    plain = TrainingExamples(dataset, config)[0]
    assert "paired" not in plain and torch.equal(plain["stems"], items[0]["stems"]), "pairing draws nothing extra"


def test_a_paired_dataset_of_other_songs_is_refused(dataset, tmp_path):
    config = AugmentConfig(seconds=0.5, seed=0)
    with pytest.raises(ConfigError, match="paired dataset StemsFolderDataset has 2 songs, the data has 6"):
        TrainingExamples(dataset, config, paired=_songs(tmp_path / "few", ramp=True, songs=2))
    renamed = tmp_path / "renamed"
    _songs(renamed, ramp=True)
    (renamed / "song0").rename(renamed / "tune0")
    with pytest.raises(ConfigError, match="paired song 0 is 'song1' .3000 samples., the data's is 'song0'"):
        TrainingExamples(dataset, config, paired=StemsFolderDataset(StemsFolderDataset.Config(root=renamed, sample_rate=SR)))
