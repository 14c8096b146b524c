import json
from pathlib import Path

import pytest

from tokensep_core.config import load_config, read_config_file
from tokensep_core.errors import ConfigError
from tokensep_core.plugins import load_registry
from tokensep_core.separation.pipeline import PipelineConfig, build_pipeline


@pytest.mark.parametrize(
    ("suffix", "text"),
    [
        (".yaml", "codec:\n  name: debug\n  params: {hop_length: 160}\nencoder: {name: debug}\nlm: {name: debug}\nseed: 3\n"),
        (
            ".toml",
            "seed = 3\nencoder = {name = 'debug'}\nlm = {name = 'debug'}\n[codec]\nname = 'debug'\n[codec.params]\nhop_length = 160\n",
        ),
        (
            ".json",
            json.dumps(
                {
                    "codec": {"name": "debug", "params": {"hop_length": 160}},
                    "encoder": {"name": "debug"},
                    "lm": {"name": "debug"},
                    "seed": 3,
                }
            ),
        ),
    ],
)
def test_every_format_loads_the_same_config(tmp_path: Path, suffix: str, text: str) -> None:
    path = tmp_path / f"exp{suffix}"
    path.write_text(text)
    config = load_config(PipelineConfig, path)
    assert config.seed == 3 and config.codec.params == {"hop_length": 160}
    pipeline = build_pipeline(load_registry(autoload=False), config, str(path))
    assert pipeline.codec.hop_length == 160


def test_typo_in_component_params_names_file_component_and_field(tmp_path: Path) -> None:
    path = tmp_path / "exp.yaml"
    path.write_text("codec: {name: debug}\nencoder:\n  name: debug\n  params: {n_mel: 40}\nlm: {name: debug}\n")
    config = load_config(PipelineConfig, path)
    with pytest.raises(ConfigError) as err:
        build_pipeline(load_registry(autoload=False), config, str(path))
    assert str(err.value) == f"{path}: encoder 'debug': field 'n_mel': unknown field"


def test_typo_at_top_level_names_the_field(tmp_path: Path) -> None:
    path = tmp_path / "exp.yaml"
    path.write_text("codecs:\n  name: debug\ncodec: {name: debug}\nencoder: {name: debug}\nlm: {name: debug}\n")
    with pytest.raises(ConfigError, match=r"exp.yaml: field 'codecs': unknown field"):
        load_config(PipelineConfig, path)


def test_malformed_files_give_one_line_errors(tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("codec: [unclosed\n")
    with pytest.raises(ConfigError, match="bad.yaml: not valid YAML") as err:
        read_config_file(bad)
    assert "\n" not in str(err.value)
    ini = tmp_path / "x.ini"
    ini.write_text("a = 1\n")
    with pytest.raises(ConfigError, match="unknown config format '.ini'"):
        read_config_file(ini)
    with pytest.raises(ConfigError, match="cannot read config file"):
        read_config_file(tmp_path / "missing.yaml")


def test_incompatible_components_are_refused() -> None:
    config = PipelineConfig.model_validate(
        {
            "codec": {"name": "debug"},
            "encoder": {"name": "debug", "params": {"output_dim": 16}},
            "lm": {"name": "debug", "params": {"dim": 48}},
        }
    )
    with pytest.raises(ConfigError, match="output_dim 16 != lm 'debug' dim 48"):
        build_pipeline(load_registry(autoload=False), config)


def test_shared_shapes_are_derived_unless_set() -> None:
    config = PipelineConfig.model_validate(
        {
            "codec": {"name": "debug"},
            "encoder": {"name": "debug"},
            "lm": {"name": "debug", "params": {"dim": 48}},
            "track_order": {"name": "interleaved"},
        }
    )
    pipeline = build_pipeline(load_registry(autoload=False), config)
    assert pipeline.encoder.output_dim == 48
    assert pipeline.lm.num_codebooks == 4 * pipeline.codec.num_codebooks, "interleaved stacks the 4 stems' streams"
    assert pipeline.lm.vocab_size >= pipeline.token_layout.special.vocab_size
