"""Greedy decoding and the sampling options: on a model that stores ``greedy: true`` a sampling
option turns the draw on, ``--no-greedy`` samples with the stored settings, and options greedy
decoding cannot read are refused, on the command line and in the Python API alike."""

from __future__ import annotations

from pathlib import Path

import pytest
import soundfile as sf

from tokensep_core.cli.main import main
from tokensep_core.errors import ConfigError
from tokensep_core.separation.separator import GenerativeSeparator, InferenceConfig, merge_inference


@pytest.fixture(scope="module")
def greedy_model(tiny_run, tmp_path_factory) -> Path:
    """The tiny separator exported with ``greedy: true`` over its stored sampling settings."""
    model = tmp_path_factory.mktemp("greedy") / "model"
    assert main(["export", str(tiny_run[0]), str(model), "--inference", '{"sampling": {"greedy": true}}']) == 0
    return model


@pytest.fixture(scope="module")
def song(tmp_path_factory) -> Path:
    path = tmp_path_factory.mktemp("song") / "song.wav"
    sf.write(str(path), [[0.1 * ((i * 7) % 13 - 6) / 6, -0.05] for i in range(4000)], 16000)
    return path


def samples(path: Path) -> bytes:
    """The samples of a 32-bit float WAV, as bytes (its header holds a time stamp)."""
    return sf.read(str(path), dtype="float32")[0].tobytes()


def separate(model: Path, song: Path, out: Path, *options: str) -> dict[str, bytes]:
    """``tokensep separate`` -> {stem: its samples, as bytes}."""
    assert main(["separate", str(song), "-n", str(model), "-o", str(out), "-d", "cpu", "--float32", *options]) == 0
    return {path.stem: samples(path) for path in sorted((out / model.name / song.stem).iterdir())}


def test_a_sampling_option_turns_greedy_decoding_off(greedy_model, song, tmp_path) -> None:
    assert GenerativeSeparator.from_pretrained(greedy_model, device="cpu").inference.sampling.greedy
    first = separate(greedy_model, song, tmp_path / "1", "--top-k", "5", "--seed", "1")
    second = separate(greedy_model, song, tmp_path / "2", "--top-k", "5", "--seed", "2")
    again = separate(greedy_model, song, tmp_path / "3", "--top-k", "5", "--seed", "1")
    assert first == again, "same seed, same stems"
    assert first != second, "the seed draws other codes: the model samples"


def test_greedy_decoding_is_deterministic_and_no_greedy_samples_with_the_stored_settings(greedy_model, song, tmp_path) -> None:
    greedy = separate(greedy_model, song, tmp_path / "g1")
    assert separate(greedy_model, song, tmp_path / "g2", "--greedy") == greedy
    sampled = separate(greedy_model, song, tmp_path / "s", "--no-greedy")
    assert sampled != greedy
    separator = GenerativeSeparator.from_pretrained(greedy_model, device="cpu")
    separator.update_inference({"sampling": {"greedy": False}})
    assert (separator.inference.sampling.top_k, separator.inference.sampling.temperature) == (50, 0.8)  # the tiny run's stored draw
    targets = {stem: tmp_path / "api" / f"{stem}.wav" for stem in separator.stems}
    separator.separate_file(song, targets, "FLOAT")
    assert {stem: samples(path) for stem, path in targets.items()} == sampled


@pytest.mark.parametrize(
    ("options", "message"),
    [
        (["--greedy", "--top-k", "5"], "--top-k has no effect with --greedy"),
        (
            ["--greedy", "--temperature", "0.5", "--min-p", "0.1", "--seed", "3"],
            "--temperature, --min-p, --seed have no effect with --greedy",
        ),
        (["--seed", "3"], "--seed has no effect with greedy decoding (the model's stored setting; add --no-greedy to sample)"),
    ],
)
def test_options_greedy_decoding_cannot_read_are_one_line_errors(greedy_model, song, tmp_path, capsys, options, message) -> None:
    out = tmp_path / "out"
    assert main(["separate", str(song), "-n", str(greedy_model), "-o", str(out), "-d", "cpu", *options]) == 1
    errors = capsys.readouterr().err.splitlines()
    assert errors[-1] == f"tokensep: error: {message}"
    assert not out.exists() or not any(p.is_file() for p in out.rglob("*"))


def test_help_shows_the_defaults_of_the_segment_and_sampling_options(capsys) -> None:
    with pytest.raises(SystemExit):
        main(["separate", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for expected in (
        "--greedy, --no-greedy",
        "--segment SEGMENT segment length in seconds (default: the model's stored setting; 5.0 when it stores none)",
        "--overlap OVERLAP overlap between segments, a fraction in [0, 1) (default: the model's stored setting; 0.25",
        "--temperature TEMPERATURE divides the logits before the draw (default: the model's stored setting; 0.8",
        "--top-k TOP_K draw among the k most likely codes (default: the model's stored setting; 50",
        "--min-p MIN_P drop codes less likely than this fraction of the most likely (default: the model's stored setting; off",
    ):
        assert expected in text


GREEDY = InferenceConfig(sampling={"greedy": True, "temperature": 0.8, "top_k": 50}).model_dump()


def test_the_api_refuses_draw_settings_that_greedy_decoding_would_ignore() -> None:
    with pytest.raises(ConfigError, match=r"^params: sampling.top_k has no effect with greedy decoding; set sampling.greedy to false"):
        merge_inference(GREEDY, {"sampling": {"top_k": 5}}, "params")
    with pytest.raises(ConfigError, match=r"^params: sampling.temperature, seed have no effect with greedy decoding"):
        merge_inference(InferenceConfig().model_dump(), {"seed": 2, "sampling": {"greedy": True, "temperature": 0.5}}, "params")
    sampled = merge_inference(GREEDY, {"seed": 2, "sampling": {"greedy": False, "top_k": 5}})
    assert (sampled.sampling.greedy, sampled.sampling.top_k, sampled.sampling.temperature, sampled.seed) == (False, 5, 0.8, 2)
    guided = merge_inference(GREEDY, {"segment_seconds": 1.0, "sampling": {"cfg_scale": 2.0}})  # guidance shapes greedy scores too
    assert guided.sampling.greedy and guided.sampling.cfg_scale == 2.0 and guided.segment_seconds == 1.0


def test_a_greedy_separator_is_deterministic_for_evaluation(greedy_model) -> None:
    separator = GenerativeSeparator.from_pretrained(greedy_model, device="cpu")
    assert not separator.stochastic
    separator.update_inference({"sampling": {"greedy": False}})
    assert separator.stochastic
