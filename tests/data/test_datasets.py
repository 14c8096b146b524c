"""The ``musdb``, ``stems_folder`` and ``synthetic`` datasets."""

from __future__ import annotations

import pytest
import torch

from tokensep_core import STEMS
from tokensep_core.audio.io import read_audio, write_audio
from tokensep_core.data.musdb import VALIDATION_TRACKS, MusdbDataset
from tokensep_core.data.procedural import ProceduralRenderer
from tokensep_core.data.writer import write_synthetic_dataset
from tokensep_core.errors import AudioError, ConfigError
from tokensep_core.plugins import load_registry

SR = 16000


@pytest.fixture(scope="module")
def registry():
    return load_registry()


@pytest.fixture(scope="module")
def synth_folder(tmp_path_factory):
    out = tmp_path_factory.mktemp("synth")
    write_synthetic_dataset(out, 5, 1.0, SR, 11, ProceduralRenderer(), test_fraction=0.4, renderer_name="procedural", progress=False)
    return out


def test_musdb_reads_the_real_track(tmp_path, real_track, registry):
    (tmp_path / "test").mkdir()
    (tmp_path / "test" / real_track.name).symlink_to(real_track, target_is_directory=True)
    dataset = registry.build("dataset", {"name": "musdb", "params": {"root": str(tmp_path), "split": "test"}})
    assert len(dataset) == 1 and dataset.stems == STEMS and dataset.sample_rate == 44100
    song = dataset[0]
    mixture, rate = read_audio(real_track / "mixture.wav")
    assert song.name == real_track.name and rate == 44100
    assert torch.equal(song.mixture, mixture)
    assert torch.equal(song.stems["vocals"], read_audio(real_track / "vocals.wav")[0])
    # MUSDB18-HQ mixtures are the sum of the stems up to rounding
    assert (sum(song.stems.values()) - song.mixture).abs().max() < 1e-3
    part = dataset.read_stem(0, "drums", 1000, 500)
    assert torch.equal(part, song.stems["drums"][:, 1000:1500])
    mono = registry.build(
        "dataset", {"name": "musdb", "params": {"root": str(tmp_path), "split": "test", "sample_rate": 22050, "channels": 1}}
    )
    converted = mono[0]
    assert converted.mixture.shape == (1, mixture.shape[1] // 2) and converted.sample_rate == 22050
    assert torch.allclose(converted.mixture, mono.read_mixture(0, 0, converted.mixture.shape[1]))


def test_excerpts_are_slices_of_the_song(real_track, registry):
    """excerpt_seconds: Falcon 69 (5.99 s) gives two 2.5-s songs, each exactly its slice of the files,
    also when resampled; the 0.99-s tail is dropped."""
    params = {"root": str(real_track.parent), "excerpt_seconds": 2.5}
    dataset = registry.build("dataset", {"name": "stems_folder", "params": params})
    whole, _ = read_audio(real_track / "vocals.wav")
    mixture, _ = read_audio(real_track / "mixture.wav")
    part = int(2.5 * 44100)
    assert [dataset.name(i) for i in range(len(dataset))] == [f"{real_track.name}@0s", f"{real_track.name}@2.5s"]
    second = dataset[1]
    assert torch.equal(second.stems["vocals"], whole[:, part : 2 * part])
    assert torch.equal(second.mixture, mixture[:, part : 2 * part])
    assert torch.equal(dataset.read_stem(1, "vocals", 100, 50), whole[:, part + 100 : part + 150])
    musdb = registry.build("dataset", {"name": "musdb", "params": {**params, "split": "all", "sample_rate": 22050, "channels": 1}})
    plain = registry.build(
        "dataset", {"name": "musdb", "params": {"root": str(real_track.parent), "split": "all", "sample_rate": 22050, "channels": 1}}
    )
    assert len(musdb) == 2 and musdb.num_samples(1) == int(2.5 * 22050)
    # resampled excerpt = the resampled whole song's slice, away from the excerpt's edges
    inner = slice(1000, int(2.5 * 22050) - 1000)
    resampled_whole = plain[0].stems["drums"][:, int(2.5 * 22050) :]
    assert torch.allclose(musdb[1].stems["drums"][:, inner], resampled_whole[:, inner], atol=1e-3)
    with pytest.raises(ConfigError, match="shorter than one excerpt"):
        registry.build("dataset", {"name": "stems_folder", "params": {**params, "excerpt_seconds": 10.0}})


def test_musdb_all_reads_the_shared_real_folder_as_it_is(real_track, synth_folder, registry):
    dataset = registry.build("dataset", {"name": "musdb", "params": {"root": str(real_track.parent), "split": "all"}})
    assert [dataset[i].name for i in range(len(dataset))] == [real_track.name]
    assert torch.equal(dataset[0].mixture, read_audio(real_track / "mixture.wav")[0])
    both = registry.build("dataset", {"name": "musdb", "params": {"root": str(synth_folder), "split": "all", "sample_rate": SR}})
    train = registry.build("dataset", {"name": "musdb", "params": {"root": str(synth_folder), "split": "train", "sample_rate": SR}})
    test = registry.build("dataset", {"name": "musdb", "params": {"root": str(synth_folder), "split": "test", "sample_rate": SR}})
    assert len(both) == len(train) + len(test) == 5


def test_musdb_splits_on_a_synthetic_folder(synth_folder, registry):
    def build(split):
        return registry.build("dataset", {"name": "musdb", "params": {"root": str(synth_folder), "split": split, "sample_rate": SR}})

    train, test = build("train"), build("test")
    assert (len(train), len(test)) == (3, 2)
    song = test[1]
    assert song.mixture.shape == (2, SR) and set(song.stems) == set(STEMS)
    assert torch.allclose(sum(song.stems[s] for s in STEMS), song.mixture, atol=1e-6, rtol=0)
    with pytest.raises(ConfigError, match="no valid songs"):
        build("valid")


def test_musdb_validation_list(tmp_path, synth_folder, registry):
    assert len(VALIDATION_TRACKS) == 14
    source = next((synth_folder / "train").iterdir())
    for name in ("Leaf - Summerghost", "Some Band - Some Song"):
        (tmp_path / "train" / name).mkdir(parents=True)
        for f in source.iterdir():
            (tmp_path / "train" / name / f.name).symlink_to(f)
    names = lambda split: [s.name for s in MusdbDataset(MusdbDataset.Config(root=tmp_path, split=split, sample_rate=SR))]  # noqa: E731
    assert names("valid") == ["Leaf - Summerghost"]
    assert names("train") == ["Some Band - Some Song"]
    with pytest.raises(ConfigError, match="has no 'test' folder"):
        names("test")


def test_stems_folder_any_names_and_optional_mixture(tmp_path, registry):
    gen = torch.Generator().manual_seed(0)
    for song in ("a", "b"):
        for stem in ("piano", "voice"):
            write_audio(tmp_path / song / f"{stem}.flac", torch.rand(1, 800, generator=gen) - 0.5, 8000, "PCM_24")
    dataset = registry.build("dataset", {"name": "stems_folder", "params": {"root": str(tmp_path), "sample_rate": 8000}})
    assert dataset.stems == ("piano", "voice") and len(dataset) == 2
    song = dataset[1]
    assert song.name == "b" and song.mixture.shape == (2, 800)  # mono files -> 2 channels
    assert torch.allclose(song.mixture, song.stems["piano"] + song.stems["voice"])
    resampled = registry.build("dataset", {"name": "stems_folder", "params": {"root": str(tmp_path), "sample_rate": 16000, "channels": 1}})
    assert resampled[0].stems["voice"].shape == (1, 1600)
    with pytest.raises(AudioError, match="missing drums"):
        registry.build("dataset", {"name": "stems_folder", "params": {"root": str(tmp_path), "stems": ["drums"]}})
    with pytest.raises(ConfigError, match="no such folder"):
        registry.build("dataset", {"name": "stems_folder", "params": {"root": str(tmp_path / "nope")}})
    with pytest.raises(ConfigError, match="field 'stem'"):
        registry.build("dataset", {"name": "stems_folder", "params": {"root": str(tmp_path), "stem": ["x"]}})


def test_synthetic_dataset_matches_written_files(synth_folder, registry):
    params = {"songs": 5, "seconds": 1.0, "sample_rate": SR, "seed": 11, "test_fraction": 0.4, "split": "test"}
    dataset = registry.build("dataset", {"name": "synthetic", "params": params})
    assert len(dataset) == 2 and dataset.stems == STEMS
    song = dataset[0]
    folder = synth_folder / "test" / song.name
    for stem in STEMS:
        assert torch.equal(song.stems[stem], read_audio(folder / f"{stem}.wav")[0]), stem
    assert torch.equal(song.mixture, read_audio(folder / "mixture.wav")[0])
    assert dataset.read_stem(0, "bass", SR - 10, 20)[:, 10:].abs().sum() == 0  # zero-padded past the end
    mono = registry.build("dataset", {"name": "synthetic", "params": {**params, "channels": 1}})
    assert mono[0].mixture.shape == (1, SR)
    with pytest.raises(ConfigError, match="no test songs"):
        registry.build("dataset", {"name": "synthetic", "params": {**params, "songs": 1}})


def test_partial_reads_and_info(tmp_path):
    """The audio_io helpers the folder datasets rely on."""
    from tokensep_core.audio.io import audio_info, list_audio_files

    wav = torch.linspace(-0.5, 0.5, 2 * 300).reshape(2, 300)
    write_audio(tmp_path / "x.wav", wav, 8000, "FLOAT")
    (tmp_path / ".hidden.wav").write_bytes(b"")
    (tmp_path / "notes.txt").write_text("not audio")
    assert list_audio_files(tmp_path) == [tmp_path / "x.wav"]
    assert (audio_info(tmp_path / "x.wav").frames, audio_info(tmp_path / "x.wav").channels) == (300, 2)
    assert torch.equal(read_audio(tmp_path / "x.wav", 100, 50)[0], wav[:, 100:150])
    assert read_audio(tmp_path / "x.wav", 280, 50)[0].shape == (2, 20)
    with pytest.raises(AudioError, match="not a readable audio file"):
        audio_info(tmp_path / "notes.txt")
