"""Grid files: axes expand to their cartesian product, overrides and the budget land in each
row's config, baselines resolve, mistakes are one-line errors naming the file."""

import pytest
import yaml

from tokensep_core.bench.grid import load_grid, set_path
from tokensep_core.bench.rows import resolve_rows
from tokensep_core.config import ComponentSpec
from tokensep_core.errors import ConfigError
from tokensep_core.plugins import load_plugins

GRID = {
    "base": {
        "model": {"lm": {"name": "llama", "params": {"preset": "tiny"}}},
        "augment": {"seconds": 0.5},
        "trainer": {"lr": 0.01, "steps": 500},
    },
    "axes": {
        "encoder": [
            {"name": "conf", "set": {"model.encoder": {"name": "conformer"}}},
            {"name": "frozen", "set": {"model.encoder": {"name": "frozen_codec"}}},
        ],
        "order": [
            {"name": "seq", "set": {"model.track_order.name": "sequential"}},
            {"name": "ind", "set": {"model.track_order.name": "independent"}},
        ],
        "temp": [{"name": "t07", "set": {"inference.sampling.temperature": 0.7}}],
    },
    "baselines": [
        {"name": "copy", "separator": {"name": "mixture_copy"}},
        {"name": "demucs", "separator": {"name": "htdemucs", "params": {"depth": 2}}, "train": True},
        {"name": "pretrained", "checkpoint": "runs/x"},
    ],
    "data": {"synth": {"songs": 4}},
    "budget": {"minutes": 2.5},
    "metrics": ["si_sdr", {"name": "onset_f", "stems": ["drums"]}],
    "seeds": [0, 1],
}
TRAIN = ComponentSpec(name="musdb", params={"root": "d", "split": "train"})
TEST = ComponentSpec(name="musdb", params={"root": "d", "split": "test"})
TRAINABLE = load_plugins().trainable_baselines  # htdemucs and bs_roformer, from tokensep-teachers


def _write(tmp_path, grid) -> str:
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(grid))
    return str(path)


def test_rows_are_the_product_of_the_axes_then_the_baselines(tmp_path) -> None:
    grid = load_grid(_write(tmp_path, GRID))
    rows = resolve_rows(grid, TRAIN, TEST, 16000, "grid.yaml", TRAINABLE)
    assert [r.name for r in rows] == ["conf+seq+t07", "conf+ind+t07", "frozen+seq+t07", "frozen+ind+t07", "copy", "demucs", "pretrained"]
    training = rows[3].config["training"]
    assert training["model"]["encoder"] == {"name": "frozen_codec"}
    assert training["model"]["track_order"] == {"name": "independent"}
    assert training["model"]["lm"]["params"] == {"preset": "tiny"}
    assert training["inference"]["sampling"]["temperature"] == 0.7
    assert training["trainer"] == {"lr": 0.01, "steps": 500, "max_minutes": 2.5}
    assert training["data"] == {"name": "musdb", "params": {"root": "d", "split": "train"}}
    assert GRID["base"]["model"].get("encoder") is None  # the base config is not modified
    teacher = rows[5].config
    assert teacher["kind"] == "teacher" and teacher["task"] == "tokensep_teachers.tasks:HTDemucsTask"
    assert teacher["separator"]["params"] == {"depth": 2, "sample_rate": 16000}
    assert teacher["trainer"]["max_minutes"] == 2.5 and teacher["augment"] == {"seconds": 0.5}
    assert rows[4].kind == "separator" and rows[6].kind == "checkpoint"
    assert all(r.config["seeds"] == [0, 1] and r.config["metrics"][1]["stems"] == ["drums"] for r in rows)


def test_comparisons_name_generative_rows_or_baselines(tmp_path) -> None:
    grid = load_grid(_write(tmp_path, {**GRID, "comparisons": [{"a": "frozen+ind+t07", "b": "copy"}, {"a": "demucs", "b": "pretrained"}]}))
    assert [(c.a, c.b) for c in grid.comparisons] == [("frozen+ind+t07", "copy"), ("demucs", "pretrained")]


def test_set_path_refuses_to_descend_into_a_value() -> None:
    config = {"model": {"lm": "llama"}}
    set_path(config, "model.codec.params.dim", 8, "g")
    assert config["model"]["codec"] == {"params": {"dim": 8}}
    with pytest.raises(ConfigError, match="'lm' is not a mapping"):
        set_path(config, "model.lm.name", "x", "g")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"budget": {}}, "give steps, minutes, cpu_seconds or several of them"),
        ({"budget": {"steps": 10, "cpu_seconds": 0}}, "budget.cpu_seconds"),
        ({"codec_budget": {"cpu_seconds": -1.0}}, "codec_budget.cpu_seconds"),
        ({"data": {"train": {"name": "musdb"}}}, "'train' and 'test'"),
        ({"baselines": [{"name": "a", "separator": {"name": "oracle"}, "checkpoint": "x"}]}, "either 'separator' or 'checkpoint'"),
        ({"base": {"data": {}}}, "remove base.data"),
        ({"axes": {"order": [{"name": "x", "set": {}}, {"name": "x", "set": {}}]}}, "repeats an option name"),
        ({"seeds": []}, "seeds"),
        ({"seeds": [0, 1, 0]}, "seeds repeats a seed"),
        (
            {"comparisons": [{"a": "copy", "b": "nope"}]},
            r"comparisons\[0\] names 'nope', which is not a row of the grid \(rows: conf\+seq\+t07, ",
        ),
        ({"comparisons": [{"a": "copy", "b": "copy"}]}, "comparison 'copy' against itself"),
        ({"comparisons": [{"a": "copy"}]}, "comparisons.0.b"),
        ({"typo": 1}, "field 'typo': unknown field"),
        ({"data": {"test": {"name": "musdb"}}}, "data: generative rows train; give a 'train' dataset spec"),
        ({"axes": {}, "base": {}, "data": {"test": {"name": "musdb"}}}, "data: baseline 'demucs' train"),
        ({"budget": None}, "budget: generative rows train; give steps, minutes and/or cpu_seconds"),
    ],
)
def test_grid_mistakes_are_one_line_errors(tmp_path, change, message) -> None:
    with pytest.raises(ConfigError, match=message) as info:
        load_grid(_write(tmp_path, {**GRID, **change}))
    assert "grid.yaml" in str(info.value) and "\n" not in str(info.value)


def test_row_names_must_be_distinct_and_folder_safe(tmp_path) -> None:
    for baselines, message in (
        ([{"name": "copy", "separator": {"name": "oracle"}}] * 2, "two rows are named 'copy'"),
        ([{"name": "../x", "separator": {"name": "oracle"}}], "row name '../x'"),
    ):
        grid = load_grid(_write(tmp_path, {**GRID, "axes": {}, "baselines": baselines}))
        with pytest.raises(ConfigError, match=message):
            resolve_rows(grid, TRAIN, TEST, None, "grid.yaml", TRAINABLE)


def test_a_trained_baseline_without_a_known_task_needs_one(tmp_path) -> None:
    grid = load_grid(_write(tmp_path, {**GRID, "baselines": [{"name": "o", "separator": {"name": "oracle"}, "train": True}]}))
    with pytest.raises(ConfigError, match="no known training task for separator 'oracle'"):
        resolve_rows(grid, TRAIN, TEST, None, "grid.yaml", TRAINABLE)


def test_a_cpu_budget_reaches_every_trained_row_and_the_codecs(tmp_path) -> None:
    codec = {"codec": {"name": "debug"}, "trainer": {"steps": 5}}
    grid = {**GRID, "budget": {"steps": 300, "cpu_seconds": 90.0}, "codecs": {"c": codec}, "codec_budget": {"cpu_seconds": 20.0}}
    grid["base"] = {**GRID["base"], "model": {**GRID["base"]["model"], "codec_checkpoint": "{codec:c}"}}
    rows = resolve_rows(load_grid(_write(tmp_path, grid)), TRAIN, TEST, 16000, "grid.yaml", TRAINABLE)
    assert rows[0].config["training"]["trainer"] == {"lr": 0.01, "steps": 300, "max_cpu_seconds": 90.0}
    assert rows[0].config["codecs"]["c"]["budget"] == {"max_cpu_seconds": 20.0}
    teacher = rows[5].config
    assert teacher["trainer"]["max_cpu_seconds"] == 90.0 and "codecs" not in teacher  # uses no grid codec: the whole budget


def test_an_evaluation_only_grid_needs_neither_training_data_nor_a_budget(tmp_path) -> None:
    """Only checkpoints and controls (e.g. benchmarks/real/falcon69.yaml): no 'train', no 'budget'."""
    from tokensep_core.bench.provenance import grid_provenance
    from tokensep_core.bench.report import provenance_lines

    evaluation_only = {
        "baselines": [{"name": "pretrained", "checkpoint": "runs/x"}, {"name": "copy", "separator": {"name": "mixture_copy"}}],
        "data": {"test": {"name": "musdb", "params": {"root": "d", "split": "test"}}},
        "seeds": [0, 1],
        "comparisons": [{"a": "pretrained", "b": "copy"}],
    }
    grid = load_grid(_write(tmp_path, evaluation_only))
    rows = resolve_rows(grid, None, TEST, None, "grid.yaml", TRAINABLE)
    assert [(r.name, r.kind) for r in rows] == [("pretrained", "checkpoint"), ("copy", "separator")]
    assert all(not r.trained and r.config["test"] == TEST.model_dump(mode="json") for r in rows)
    assert "Budget: none (no row trains)" in provenance_lines(grid_provenance(grid, "tokensep bench grid.yaml"))


def test_a_trained_baseline_can_have_its_own_budget(tmp_path) -> None:
    """E.g. HTDemucs given the compute of the full token row it is compared with; the grid's budget
    stays with every other trained row, and the provenance block names both."""
    from tokensep_core.bench.provenance import grid_provenance
    from tokensep_core.bench.report import provenance_lines

    own = {
        **GRID,
        "baselines": [
            *GRID["baselines"],
            {"name": "demucs_long", "separator": {"name": "htdemucs"}, "train": True, "budget": {"cpu_seconds": 7000, "steps": 9000}},
        ],
    }
    grid = load_grid(_write(tmp_path, own))
    rows = {r.name: r for r in resolve_rows(grid, TRAIN, TEST, 16000, "grid.yaml", TRAINABLE)}
    assert rows["demucs_long"].config["trainer"] == {"lr": 0.01, "steps": 9000, "max_cpu_seconds": 7000}
    assert rows["demucs"].config["trainer"] == {"lr": 0.01, "steps": 500, "max_minutes": 2.5}
    lines = provenance_lines(grid_provenance(grid, "tokensep bench grid.yaml"))
    assert "Budget: minutes 2.5; demucs_long: steps 9000, cpu_seconds 7000.0" in lines


@pytest.mark.parametrize(
    "baseline, message",
    [
        ({"name": "copy", "separator": {"name": "mixture_copy"}, "budget": {"steps": 5}}, "'budget' applies only to a trained baseline"),
        ({"name": "d", "separator": {"name": "htdemucs"}, "train": True}, "budget: baseline 'd' train"),
    ],
)
def test_a_budget_on_an_untrained_row_or_a_trained_row_without_any_is_refused(tmp_path, baseline, message) -> None:
    grid = {"baselines": [baseline], "data": {"synth": {"songs": 4}}}
    with pytest.raises(ConfigError) as err:
        load_grid(_write(tmp_path, grid))
    assert message in str(err.value) and "\n" not in str(err.value)


def test_a_grid_whose_only_trained_row_has_its_own_budget_needs_no_grid_budget(tmp_path) -> None:
    grid = {
        "baselines": [{"name": "d", "separator": {"name": "htdemucs"}, "train": True, "budget": {"steps": 5}}],
        "data": {"synth": {"songs": 4}},
    }
    rows = resolve_rows(load_grid(_write(tmp_path, grid)), TRAIN, TEST, 16000, "grid.yaml", TRAINABLE)
    assert rows[0].config["trainer"] == {"steps": 5}
