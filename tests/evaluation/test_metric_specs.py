"""Metrics named with params wherever metrics are named: ``--metrics`` takes names and JSON specs,
parsed like a bench grid's ``metrics``."""

import json

import pytest

from tokensep_core.bench.grid import GridConfig
from tokensep_core.cli.main import main
from tokensep_core.data.writer import write_synthetic_dataset
from tokensep_core.errors import ConfigError
from tokensep_core.evaluation import MetricSpec, parse_metric_specs, select_metrics
from tokensep_core.plugins import load_registry


def test_names_one_spec_or_a_list_of_both() -> None:
    assert parse_metric_specs(" si_sdr, csdr ,") == [MetricSpec(name="si_sdr"), MetricSpec(name="csdr")]
    assert parse_metric_specs('{"name": "si_sdr", "params": {"eps": 0.001}}') == [MetricSpec(name="si_sdr", params={"eps": 0.001})]
    items = [{"name": "onset_f", "params": {"window_seconds": 0.1}, "stems": ["drums", "bass"]}, "usdr"]
    specs = parse_metric_specs(json.dumps(items))
    assert specs == [MetricSpec(name="onset_f", params={"window_seconds": 0.1}, stems=["drums", "bass"]), MetricSpec(name="usdr")]
    grid = GridConfig.model_validate({"data": {"train": {"name": "t"}, "test": {"name": "t"}}, "budget": {"steps": 1}, "metrics": items})
    assert grid.metrics == specs, "a bench grid reads the same list the same way"


def test_malformed_specs_are_one_line_errors() -> None:
    with pytest.raises(ConfigError, match=r"^--metrics: not valid JSON"):
        parse_metric_specs('[{"name": "si_sdr"')
    with pytest.raises(ConfigError, match=r"^--metrics\[0\]: field 'parms': unknown field$"):
        parse_metric_specs('{"name": "si_sdr", "parms": {}}')


def test_a_spec_overrides_only_the_plan_fields_it_sets() -> None:
    selected = select_metrics(parse_metric_specs('[{"name": "onset_f", "params": {"window_seconds": 0.1}}, "si_sdr", "si_sdr"]'))
    assert selected == [MetricSpec(name="onset_f", params={"window_seconds": 0.1}, stems=["drums"]), MetricSpec(name="si_sdr")]
    nisqa = select_metrics([MetricSpec(name="nisqa", params={"weights": "w.tar"}, stems=["vocals"])])
    assert nisqa == [MetricSpec(name="nisqa", params={"weights": "w.tar"}, stems=["vocals"])]


def test_eval_separator_scores_with_the_params_given(tmp_path) -> None:
    data = tmp_path / "data"
    write_synthetic_dataset(data, 2, 1.0, 16000, 5, load_registry().build("renderer", "procedural"), test_fraction=0.5, progress=False)
    summaries = {}
    for label, metrics in (("default", "si_sdr"), ("coarse", '[{"name": "si_sdr", "params": {"eps": 0.001}}, "usdr"]')):
        out = tmp_path / label
        assert main(["eval", "separator", "oracle", str(data), "-o", str(out), "--metrics", metrics, "--no-stems"]) == 0
        results = json.loads((out / "results.json").read_text())
        summaries[label] = results["summary"]["drums"]
    assert results["metrics"][0] == {"name": "si_sdr", "params": {"eps": 0.001}, "stems": None}
    # the oracle's SI-SDR is limited only by eps: a larger eps gives a (much) lower score
    assert summaries["coarse"]["si_sdr"] < summaries["default"]["si_sdr"] - 10
    assert "usdr" in summaries["coarse"]
