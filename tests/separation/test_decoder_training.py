"""``tokensep train mixture_decoder`` on a tiny synthetic stems folder with a debug codec run, and
the generative separator running the trained decoder (``mixture_consistency: decoder``)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import yaml
from torch.utils.data import default_collate

from tokensep_core.cli.main import main
from tokensep_core.config import validate_model
from tokensep_core.data.writer import write_synthetic_dataset
from tokensep_core.errors import CheckpointError, ConfigError
from tokensep_core.plugins import load_registry
from tokensep_core.separation.decoder_checkpoint import load_mixture_decoder
from tokensep_core.separation.decoder_guides import stored_codec_spec
from tokensep_core.separation.decoder_training import MixtureDecoderTrainingConfig, build_mixture_decoder_training
from tokensep_core.separation.separator import GenerativeSeparator
from tokensep_core.training import TrainerConfig, train
from tokensep_core.training.checkpoint import write_checkpoint

RATE = 22050
"""The data's rate: above the debug codec's 16 kHz, so the decoder also splits what the guides lack."""


pytestmark = pytest.mark.usefixtures("single_thread")


@pytest.fixture(scope="module")
def songs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """3 synthetic stereo songs of 1.5 s at 22.05 kHz: 2 in train/, 1 in test/."""
    root = tmp_path_factory.mktemp("decoder_songs")
    write_synthetic_dataset(root, 3, 1.5, RATE, 5, load_registry().build("renderer", "procedural"), test_fraction=0.34, progress=False)
    return root


@pytest.fixture(scope="module")
def codec_run(songs: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A debug codec trained for 2 steps (its run directory)."""
    from tokensep_codecs.training import build_codec_training

    run_dir = tmp_path_factory.mktemp("debug_codec")
    sections = {
        "codec": {"name": "debug"},
        "data": {"name": "stems_folder", "params": {"root": str(songs / "train"), "sample_rate": 16000, "channels": 1}},
        "augment": {"seconds": 0.5, "examples_per_epoch": 4},
    }
    task, examples = build_codec_training(sections, "debug codec")
    train(task, TrainerConfig(steps=2, batch_size=2, checkpoint_every=0, device="cpu"), run_dir, examples)
    return run_dir


def _sections(songs: Path, codec_run: Path) -> dict:
    folder = {"name": "stems_folder", "params": {"root": str(songs / "train"), "sample_rate": RATE, "channels": 2}}
    test = {"name": "stems_folder", "params": {**folder["params"], "root": str(songs / "test")}}
    return {
        "decoder": {"name": "spectral_mask", "params": {"width": 8, "depth": 2}},
        "data": folder,
        "augment": {"seconds": 0.5, "examples_per_epoch": 16},
        "guide": {"checkpoint": str(codec_run), "code_noise": 0.1},  # codec: read from the run's config
        "validation": {"data": test, "items": 2, "batch_size": 2},
    }


@pytest.fixture(scope="module")
def decoder_run(songs: Path, codec_run: Path, tmp_path_factory: pytest.TempPathFactory):
    """(run directory, fit result) of 8 training steps."""
    run_dir = tmp_path_factory.mktemp("decoder_run")
    task, examples = build_mixture_decoder_training(_sections(songs, codec_run), "decoder.yaml")
    config = TrainerConfig(steps=8, batch_size=2, lr=1e-2, checkpoint_every=0, log_every=1, eval_every=8, device="cpu")
    return run_dir, train(task, config, run_dir, examples)


def test_training_lowers_the_loss_and_logs_the_decoder_beside_the_soft_masks(songs: Path, codec_run: Path, decoder_run) -> None:
    run_dir, result = decoder_run
    assert {"eval/mel_decoder", "eval/mel_wiener", "eval/mel_gain"} <= set(result.metrics)
    assert result.metrics["eval/mel_decoder"] != result.metrics["eval/mel_wiener"], "training changed the split"
    task, examples = build_mixture_decoder_training(_sections(songs, codec_run), "decoder.yaml")  # untrained, same seed
    batch = default_collate([examples[i] for i in range(4)])
    task.guides.code_noise = 0.0  # the same guides for both losses

    def loss() -> float:
        with torch.no_grad():
            return float(sum(task.losses("decoder", batch, {}).values()))

    before = loss()
    task.decoder.load_state_dict(load_mixture_decoder(run_dir).state_dict())
    assert loss() < 0.97 * before


def test_the_checkpoint_records_the_decoder_and_the_guide_codec(decoder_run, tiny_run) -> None:
    import json

    run_dir, result = decoder_run
    task = json.loads((result.checkpoint / "config.json").read_text())["task"]
    assert task["decoder"]["name"] == "spectral_mask" and task["decoder"]["params"]["width"] == 8
    assert task["guide"]["codec"]["name"] == "debug"
    assert stored_codec_spec(tiny_run[0], "x").name == "debug", "a separator checkpoint names its codec too"
    decoder = load_mixture_decoder(run_dir)
    assert decoder.uses_guides and not decoder.training and not any(p.requires_grad for p in decoder.parameters())


def test_the_separator_runs_the_trained_decoder_end_to_end(tiny_run, decoder_run) -> None:
    separator = GenerativeSeparator.from_pretrained(tiny_run[0], device="cpu")
    mixture = 0.1 * torch.randn(2, 9000, generator=torch.Generator().manual_seed(4))
    separator.update_inference({"mixture_consistency": "mask"})
    masked = separator.separate(mixture, RATE)
    separator.update_inference({"mixture_consistency": "decoder", "mixture_decoder": str(decoder_run[0])})
    decoded = separator.separate(mixture, RATE)
    assert set(decoded) == set(separator.stems) and all(s.shape == mixture.shape for s in decoded.values())
    assert torch.allclose(sum(decoded.values()), mixture, atol=1e-4)
    assert any(not torch.allclose(decoded[s], masked[s], atol=1e-4) for s in decoded), "the trained decoder, not the soft masks"
    # one stem alone is the same stem as in the full split: the decoder reads every generated stem
    assert torch.allclose(separator.separate(mixture, RATE, stems=["bass"])["bass"], decoded["bass"], atol=1e-6)
    loaded = separator.mixture_decoder
    separator.update_inference({"segment_seconds": 0.25})
    assert separator.mixture_decoder is loaded, "loaded once, kept while the path stays"
    separator.update_inference({"mixture_consistency": "shift"})
    assert separator.mixture_decoder is None and separator.inference.mixture_decoder is None


def test_separate_cli_takes_the_decoder(tiny_run, decoder_run, tmp_path: Path) -> None:
    run_dir = tiny_run[0]
    source = tmp_path / "song.wav"
    mixture = 0.1 * np.random.default_rng(0).standard_normal((7000, 2))
    sf.write(str(source), mixture, RATE, subtype="FLOAT")
    args = ["separate", str(source), "-n", str(run_dir), "-o", str(tmp_path / "o"), "--float32"]
    assert main([*args, "--mixture-consistency", "decoder", "--mixture-decoder", str(decoder_run[0])]) == 0
    folder = tmp_path / "o" / run_dir.name / "song"
    total = sum(sf.read(str(folder / f"{stem}.wav"))[0] for stem in ("vocals", "drums", "bass", "other"))
    assert np.allclose(total, mixture, atol=1e-4)


def test_export_bundles_the_decoder_into_a_model_that_moves_as_one_folder(tiny_run, decoder_run, tmp_path: Path, capsys) -> None:
    settings = f'{{"mixture_consistency": "decoder", "mixture_decoder": "{decoder_run[0]}"}}'
    assert main(["export", str(tiny_run[0]), str(tmp_path / "model"), "--dtype", "float16", "--inference", settings]) == 0
    assert "with its mixture decoder from" in capsys.readouterr().out
    moved = tmp_path / "elsewhere" / "model"
    moved.parent.mkdir()
    (tmp_path / "model").rename(moved)
    separator = GenerativeSeparator.from_pretrained(moved, device="cpu")
    assert separator.inference.mixture_decoder == moved / "mixture_decoder"
    trained = load_mixture_decoder(decoder_run[0])
    for name, tensor in trained.state_dict().items():
        assert torch.allclose(separator.mixture_decoder.state_dict()[name], tensor, atol=1e-2, rtol=1e-2)
    # exported again, the bundled decoder (a path relative to the model) comes along
    assert main(["export", str(moved), str(tmp_path / "again")]) == 0
    assert GenerativeSeparator.from_pretrained(tmp_path / "again", device="cpu").mixture_decoder is not None
    # a decoder that does not load is refused before anything is written
    bad = f'{{"mixture_consistency": "decoder", "mixture_decoder": "{tiny_run[0]}"}}'
    assert main(["export", str(tiny_run[0]), str(tmp_path / "bad"), "--inference", bad]) == 1
    assert "not a mixture-decoder checkpoint" in capsys.readouterr().err and not (tmp_path / "bad").exists()


def test_bad_decoder_settings_are_one_line_errors(tiny_run, decoder_run, tmp_path: Path, capsys) -> None:
    run_dir, decoder = tiny_run[0], decoder_run[0]
    source = tmp_path / "song.wav"
    sf.write(str(source), [[0.1, -0.1]] * 4000, RATE)
    other_stems = tmp_path / "other_stems"
    spec = {"name": "spectral_mask", "params": {"stems": ["piano", "drums"], "width": 8, "depth": 2}}
    write_checkpoint(
        other_stems, 1, {"decoder": load_registry().build("mixture_decoder", spec)}, {"config": {"task": {"decoder": spec}}}, {}
    )
    cases = (
        (["--mixture-consistency", "decoder"], "mixture_consistency 'decoder' needs mixture_decoder"),
        (["--mixture-decoder", str(decoder)], "is used only with mixture_consistency 'decoder', not 'off'"),
        (["--mixture-consistency", "mask", "--mixture-decoder", str(decoder)], "not 'mask'"),
        (["--mixture-consistency", "decoder", "--mixture-decoder", str(tmp_path / "missing")], "missing: no such mixture decoder"),
        (["--mixture-consistency", "decoder", "--mixture-decoder", str(run_dir)], "not a mixture-decoder checkpoint"),
        (
            ["--mixture-consistency", "decoder", "--mixture-decoder", str(other_stems)],
            "splits stems piano, drums; this separator generates",
        ),
    )
    for flags, message in cases:
        assert main(["separate", str(source), "-n", str(run_dir), "-o", str(tmp_path / "o"), *flags]) == 1
        err = capsys.readouterr().err.strip().splitlines()
        assert len(err) == 1 and err[0].startswith("tokensep: error: ") and message in err[0], (flags, err)
    assert not (tmp_path / "o").exists()
    separator = GenerativeSeparator.from_pretrained(run_dir, device="cpu")
    with pytest.raises(CheckpointError, match="not a mixture-decoder checkpoint"):
        separator.update_inference({"mixture_consistency": "decoder", "mixture_decoder": str(run_dir)})
    with pytest.raises(ConfigError, match="needs mixture_decoder"):
        separator.update_inference({"mixture_consistency": "decoder"})
    assert separator.inference.mixture_consistency == "off" and separator.mixture_decoder is None, "a refused change changes nothing"


@pytest.fixture(scope="module")
def generated(songs: Path, tiny_run) -> Path:
    """The tiny separator's own stems (mixture_consistency off) for every train/ and test/ song,
    written by ``tokensep pseudolabel`` into a folder of the same layout."""
    import json

    out = songs.parent / f"{songs.name}_generated"
    params = json.dumps({"checkpoint": str(tiny_run[0]), "inference": {"mixture_consistency": "off"}})
    for split in ("train", "test"):
        assert main(["pseudolabel", "--teacher", "generative", "--params", params, "-d", "cpu", str(songs / split), str(out / split)]) == 0
    return out


def _generated_sections(songs: Path, codec_run: Path, generated: Path) -> dict:
    sections = _sections(songs, codec_run)
    folder = {"name": "stems_folder", "params": {**sections["data"]["params"], "root": str(generated / "train")}}
    held_out = {"name": "stems_folder", "params": {**folder["params"], "root": str(generated / "test")}}
    sections["guide"] = {"checkpoint": str(codec_run), "generated": folder, "generated_held_out": held_out}
    sections["augment"] = {**sections["augment"], "remix_probability": 0.0}
    return sections


def test_generated_guides_are_what_the_decoder_trains_and_is_scored_on(songs: Path, codec_run: Path, generated: Path) -> None:
    from tokensep_core.separation.decoder_training import decoder_losses
    from tokensep_core.separation.mixture_fit import mask_mixture
    from tokensep_core.training.task import EvalState

    task, examples = build_mixture_decoder_training(_generated_sections(songs, codec_run, generated), "decoder.yaml")
    batch = default_collate([examples[i] for i in range(2)])
    assert batch["paired"].shape == batch["stems"].shape and not torch.allclose(batch["paired"], batch["stems"], atol=1e-3)
    with torch.no_grad():
        losses = task.losses("decoder", batch, {})
        by_hand = decoder_losses(
            task.decoder(batch["mixture"], batch["paired"], RATE, task.guides.band_hz), batch["stems"], RATE, task.config.loss
        )
        coded = task.losses("decoder", {k: v for k, v in batch.items() if k != "paired"}, {})
    assert all(torch.equal(losses[k], by_hand[k]) for k in by_hand)
    assert not torch.equal(losses["stft"], coded["stft"]), "the generated guides, not the coded stems"
    items = task.held_out
    assert items is not None and items.paired is not None and items.paired.shape == items.stems.shape
    wiener = mask_mixture(items.mixture, items.paired, RATE, task.guides.band_hz)
    expected = sum(task.metric(items.stems[i, s], wiener[i, s], RATE) for i in range(2) for s in range(4)) / 8
    scores = task.evaluate(EvalState(step=1, device=torch.device("cpu"), precision="float32"))
    assert scores["mel_wiener"] == pytest.approx(expected, rel=1e-5)


def test_generated_guides_refuse_settings_that_cannot_apply(songs: Path, codec_run: Path, generated: Path, tmp_path: Path) -> None:
    sections = _generated_sections(songs, codec_run, generated)
    noisy = {**sections, "guide": {**sections["guide"], "code_noise": 0.1}}
    with pytest.raises(ConfigError, match="code_noise imitates generation errors of coded guides"):
        build_mixture_decoder_training(noisy, "decoder.yaml")
    blind = {**sections, "guide": {k: v for k, v in sections["guide"].items() if k != "generated_held_out"}}
    with pytest.raises(ConfigError, match="needs guide.generated_held_out"):
        build_mixture_decoder_training(blind, "decoder.yaml")
    swapped = {**sections, "guide": {**sections["guide"], "generated": sections["guide"]["generated_held_out"]}}
    with pytest.raises(ConfigError, match="paired dataset StemsFolderDataset has 1 songs, the data has 2"):
        build_mixture_decoder_training(swapped, "decoder.yaml")


@pytest.mark.parametrize("config_path", ["docs/examples/mixture_decoder.yaml", "benchmarks/real/train/decoder.yaml"])
def test_the_example_config_validates(repo_root: Path, config_path: str) -> None:
    from tokensep_core.training.config import TrainerConfig as Trainer

    sections = yaml.safe_load((repo_root / config_path).read_text())
    validate_model(Trainer, sections.pop("trainer"), "example")
    config = validate_model(MixtureDecoderTrainingConfig, sections, "example")
    registry = load_registry()
    decoder = registry.build("mixture_decoder", config.decoder)
    for spec in (config.data, config.validation.data):
        registry.make_config("dataset", spec.name, spec.params, "example")
    assert config.guide.codec is None and stored_codec_spec(repo_root / config.guide.checkpoint, "example").name == "hcodec"
    assert decoder.uses_guides and config.guide.code_noise > 0


@pytest.mark.parametrize("name", ["decoder", "decoder_generated"])
def test_the_real_music_ablation_differs_from_its_decoder_only_in_use_guides(repo_root: Path, name: str) -> None:
    """benchmarks/real/train/NAME_noguide.yaml is NAME.yaml blind to the guides: nothing else changes."""
    guided = yaml.safe_load((repo_root / "benchmarks" / "real" / "train" / f"{name}.yaml").read_text())
    blind = yaml.safe_load((repo_root / "benchmarks" / "real" / "train" / f"{name}_noguide.yaml").read_text())
    assert guided["decoder"]["params"].pop("use_guides") is True and blind["decoder"]["params"].pop("use_guides") is False
    assert guided == blind


def test_the_generated_guides_recipe_validates_and_keeps_the_coded_recipe_otherwise(repo_root: Path) -> None:
    """decoder_generated.yaml is decoder.yaml with generated guides (and no remixing, which would
    pair a generated stem with another song's mixture): the network, data and trainer are the same."""
    folder = repo_root / "benchmarks" / "real" / "train"
    generated, coded = (yaml.safe_load((folder / f"{name}.yaml").read_text()) for name in ("decoder_generated", "decoder"))
    config = validate_model(MixtureDecoderTrainingConfig, {k: v for k, v in generated.items() if k != "trainer"}, "example")
    assert config.guide.generated is not None and config.guide.generated_held_out is not None and config.augment.remix_probability == 0
    for section in ("decoder", "data", "validation", "trainer"):
        assert generated[section] == coded[section], section


def test_a_training_config_stores_its_decoder_path_absolute(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from tests.conftest import TINY_SECTIONS
    from tokensep_core.separation.training import SeparatorTrainingConfig

    monkeypatch.chdir(tmp_path)
    sections = {k: v for k, v in TINY_SECTIONS.items() if k != "trainer"}
    inference = {"mixture_consistency": "decoder", "mixture_decoder": "runs/decoder"}
    config = SeparatorTrainingConfig.model_validate({**sections, "inference": inference})
    assert config.inference.mixture_decoder == tmp_path / "runs" / "decoder"
