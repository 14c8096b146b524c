"""Property-based tests (hypothesis) of the audio loader and the config parser.

The codebook patterns' build/revert round trip for random shapes is property-tested in
tests/model/test_patterns.py.
"""

from __future__ import annotations

import json
from pathlib import Path
from tempfile import TemporaryDirectory

import numpy as np
import pytest
import soundfile as sf
import tomli_w
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from tokensep_core.audio.io import read_audio, write_audio
from tokensep_core.config import load_config, read_config_file
from tokensep_core.errors import ConfigError
from tokensep_core.plugins import load_registry
from tokensep_core.separation.pipeline import PipelineConfig

STEP = {"PCM_16": 2.0**-15, "PCM_24": 2.0**-23, "PCM_32": 2.0**-31, "FLOAT": 0.0, "DOUBLE": 0.0}
"""Quantization step of each subtype (float formats are exact at float32 precision)."""
FORMATS = {"wav": ("PCM_16", "PCM_24", "PCM_32", "FLOAT", "DOUBLE"), "flac": ("PCM_16", "PCM_24")}


@st.composite
def audio_files(draw: st.DrawFn) -> tuple[str, str, int, np.ndarray]:
    fmt = draw(st.sampled_from(sorted(FORMATS)))
    subtype = draw(st.sampled_from(FORMATS[fmt]))
    common = st.sampled_from([8000, 11025, 16000, 22050, 44100, 48000, 96000, 192000])
    rate = draw(common if fmt == "flac" else common | st.integers(1000, 200000))  # libFLAC refuses unusual rates
    channels = draw(st.integers(1, 8))
    frames = draw(st.integers(1, 3000))
    seed = draw(st.integers(0, 2**32 - 1))
    data = np.random.default_rng(seed).uniform(-1.0, 1.0, (frames, channels))
    return fmt, subtype, rate, data


@settings(max_examples=60, deadline=None)
@given(audio_files())
def test_audio_written_by_soundfile_reads_back_with_its_shape_rate_and_values(case: tuple[str, str, int, np.ndarray]) -> None:
    fmt, subtype, rate, data = case
    with TemporaryDirectory() as folder:
        path = Path(folder) / f"x.{fmt}"
        sf.write(path, data, rate, subtype=subtype)
        wav, read_rate = read_audio(path)
    assert read_rate == rate and tuple(wav.shape) == (data.shape[1], data.shape[0])
    # one quantization step, plus float32 rounding of values near 1
    tolerance = STEP[subtype] + 2.0**-23
    assert np.abs(wav.numpy().T.astype(np.float64) - data).max() <= tolerance


@settings(max_examples=30, deadline=None)
@given(audio_files())
def test_write_audio_then_read_audio_round_trips(case: tuple[str, str, int, np.ndarray]) -> None:
    import torch

    fmt, subtype, rate, data = case
    subtype = subtype if subtype in ("PCM_16", "PCM_24", "FLOAT") and not (fmt == "flac" and subtype == "FLOAT") else "PCM_24"
    wav = torch.from_numpy(data.T.astype(np.float32))
    with TemporaryDirectory() as folder:
        path = write_audio(Path(folder) / f"y.{fmt}", wav, rate, subtype)
        back, read_rate = read_audio(path)
        assert sorted(p.name for p in Path(folder).iterdir()) == [path.name], "no temporary file left"
    assert read_rate == rate and back.shape == wav.shape
    assert (back - wav).abs().max() <= STEP[subtype] + 2.0**-23


# -- config files -----------------------------------------------------------------------------

KEYS = st.text("abcdefghijklmnopqrstuvwxyz_0123456789", min_size=1, max_size=10).filter(lambda k: k[0].isalpha())
SCALARS = (
    st.booleans()
    | st.integers(-(2**63), 2**63 - 1)
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(st.characters(codec="utf-8", exclude_categories=("Cc", "Cs", "Zl", "Zp")), max_size=20)
)
NESTED = st.recursive(SCALARS | st.lists(SCALARS, max_size=4), lambda inner: st.dictionaries(KEYS, inner, max_size=4), max_leaves=12)
DUMPERS = {".yaml": lambda d: yaml.safe_dump(d, allow_unicode=True), ".toml": tomli_w.dumps, ".json": json.dumps}


@settings(max_examples=80, deadline=None)
@given(config=st.dictionaries(KEYS, NESTED, max_size=5), suffix=st.sampled_from(sorted(DUMPERS)))
def test_random_nested_configs_round_trip_through_every_format(config: dict, suffix: str) -> None:
    with TemporaryDirectory() as folder:
        path = Path(folder) / f"exp{suffix}"
        path.write_text(DUMPERS[suffix](config), encoding="utf-8")
        assert read_config_file(path) == config


@st.composite
def typos(draw: st.DrawFn, fields: list[str]) -> str:
    """A field name with one random edit (insert, delete, replace or swap) that is no field."""
    word = list(draw(st.sampled_from(fields)))
    position = draw(st.integers(0, len(word) - 1))
    letter = draw(st.sampled_from("abcdefghijklmnopqrstuvwxyz_"))
    edit = draw(st.sampled_from(["insert", "delete", "replace", "swap"]))
    if edit == "insert":
        word.insert(position, letter)
    elif edit == "delete" and len(word) > 1:
        del word[position]
    elif edit == "swap" and position + 1 < len(word):
        word[position], word[position + 1] = word[position + 1], word[position]
    else:
        word[position] = letter
    typo = "".join(word)
    return draw(st.just(typo).filter(lambda t: t not in fields))


PIPELINE_FIELDS = sorted(PipelineConfig.model_fields)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much])
@given(typo=typos(PIPELINE_FIELDS), suffix=st.sampled_from(sorted(DUMPERS)))
def test_a_typo_in_an_experiment_config_is_refused_naming_file_and_field(typo: str, suffix: str) -> None:
    with TemporaryDirectory() as folder:
        path = Path(folder) / f"exp{suffix}"
        required = {kind: {"name": "debug"} for kind in ("codec", "encoder", "lm")}
        path.write_text(DUMPERS[suffix]({**required, "seed": 1, typo: 3}))
        with pytest.raises(ConfigError) as info:
            load_config(PipelineConfig, path)
    assert str(info.value) == f"{path}: field '{typo}': unknown field"


@pytest.fixture(scope="module")
def registry():
    return load_registry(autoload=False)


CODEC_FIELDS = sorted(load_registry(autoload=False).get("codec", "debug").config_cls.model_fields)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.function_scoped_fixture])
@given(typo=typos(CODEC_FIELDS))
def test_a_typo_in_component_params_is_refused_naming_component_and_field(registry, typo: str) -> None:
    with pytest.raises(ConfigError) as info:
        registry.make_config("codec", "debug", {"hop_length": 160, typo: 1}, "exp.yaml")
    assert str(info.value) == f"exp.yaml: codec 'debug': field '{typo}': unknown field"
