"""Components are checked where they hand their output to the next one: a codec registered by a
plugin that returns codes or audio of the wrong shape is named, with its provider, in one line."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tokensep_core.config import validate_model
from tokensep_core.errors import ConfigError, RegistryError
from tokensep_core.plugins import load_registry
from tokensep_core.separation.pipeline import PipelineConfig
from tokensep_core.separation.separator import GenerativeSeparator, InferenceConfig
from tokensep_core.separation.training import SeparatorTrainingConfig, build_separator_training

BROKEN_CODECS = """
from tokensep_codecs.debug import DebugCodec
from tokensep_core.hookspecs import hookimpl

class ShortCodes(DebugCodec):
    '''Drops its last codebook: encode returns [B, K - 1, T'].'''
    def encode(self, wav):
        return super().encode(wav)[:, :-1]

class ShortAudio(DebugCodec):
    '''Decodes one sample short of the frames it was given.'''
    def decode(self, codes):
        return super().decode(codes)[..., :-1]

@hookimpl
def tokensep_register_components(registry):
    registry.add("codec", "short_codes", ShortCodes)
    registry.add("codec", "short_audio", ShortAudio)
"""


@pytest.fixture
def registry(site: Path, fake_distribution):
    """The registry with a plugin distribution ``tsbroken-codecs 2.0`` installed beside the others."""
    fake_distribution(site, "tsbroken-codecs", "tsbroken_codecs", BROKEN_CODECS, "2.0")
    return load_registry()


def model(codec: str) -> dict:
    return {"codec": {"name": codec}, "encoder": {"name": "debug"}, "lm": {"name": "debug"}}


def test_a_codec_encoding_the_wrong_shape_is_named_with_its_provider_in_training(registry) -> None:
    sections = {
        "model": model("short_codes"),
        "data": {"name": "synthetic", "params": {"songs": 2, "seconds": 1.0, "sample_rate": 16000, "seed": 3}},
        "augment": {"seconds": 0.25, "examples_per_epoch": 4},
    }
    task, examples = build_separator_training(sections, "broken.yaml", registry)
    batch = {key: torch.stack([examples[i][key] for i in range(2)]) for key in ("mixture", "stems")}
    with pytest.raises(RegistryError) as err:
        task.losses("model", batch, {})
    message = str(err.value)
    assert message == (
        "codec 'short_codes' (provider tsbroken-codecs 2.0): encode returned codes [4, 1, 13] torch.int64; "
        "expected [B=4, K=2, T'=13] int64 in [0, 64)"
    ), "4 mono codec items: 2 songs x 2 channels; 0.25 s at 16 kHz = 4000 samples = 13 frames of 320"


def test_a_codec_decoding_the_wrong_length_is_named_with_its_provider_in_separation(registry) -> None:
    config = PipelineConfig.model_validate(model("short_audio"))
    separator = GenerativeSeparator.build(config, registry, inference=InferenceConfig(segment_seconds=0.25), device="cpu")
    with pytest.raises(RegistryError) as err:
        separator.separate(0.1 * torch.randn(1, 4000, generator=torch.Generator().manual_seed(0)), 16000)
    assert str(err.value) == (
        "codec 'short_audio' (provider tsbroken-codecs 2.0): decode returned wav [1, 1, 4159] torch.float32; expected [B=1, C=1, T=4160]"
    ), "one segment of 4000 samples = 13 frames of 320"


def test_a_model_without_a_codec_is_a_one_line_error_naming_the_field() -> None:
    sections = {"model": {"encoder": {"name": "debug"}, "lm": {"name": "debug"}}, "data": {"name": "synthetic"}, "augment": {"seconds": 1}}
    with pytest.raises(ConfigError) as err:
        validate_model(SeparatorTrainingConfig, sections, "exp.yaml")
    assert str(err.value) == "exp.yaml: field 'model.codec': Field required"


def test_training_reads_exactly_one_of_a_dataset_and_a_token_folder(tmp_path: Path) -> None:
    sections = {"model": model("debug"), "data": {"name": "synthetic"}, "tokens": {"root": str(tmp_path)}, "augment": {"seconds": 1}}
    with pytest.raises(ConfigError, match="exp.yaml: .*set exactly one of data .* and tokens"):
        build_separator_training(sections, "exp.yaml", load_registry(autoload=False))
    assert "token_shards" not in load_registry(autoload=False).names("dataset")
