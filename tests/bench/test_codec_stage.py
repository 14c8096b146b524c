"""The grid's codec stage: a codec is trained when the first run that uses it must run, rows point
at it with {codec:NAME}; a codec that cannot be trained fails only the rows that use it, and a
codec's CPU seconds count against the CPU budget of the rows that use it."""

import json

import pytest
import yaml

from tokensep_core.bench import run_grid
from tokensep_core.bench.runner import codec_sections
from tokensep_core.config import ComponentSpec
from tokensep_core.errors import ConfigError

SYNTH = {"songs": 4, "seconds": 1.0, "sample_rate": 16000, "seed": 2, "test_fraction": 0.5}
TINY = {"name": "hcodec", "params": {"preset": "tiny"}}
GRID = {
    "codecs": {
        "tiny": {
            "codec": TINY,
            "augment": {"seconds": 0.25, "examples_per_epoch": 4},
            "trainer": {"batch_size": 1, "device": "cpu", "checkpoint_every": 0},
        },
        "bad": {"codec": {"name": "no_such_codec"}, "augment": {"seconds": 0.25}},
    },
    "codec_budget": {"steps": 1},
    "base": {  # a token row whose codec alone uses its CPU budget
        "model": {
            "codec": TINY,
            "codec_checkpoint": "{codec:tiny}",
            "encoder": {"name": "debug"},
            "lm": {"name": "llama", "params": {"preset": "tiny"}},
        },
        "trainer": {"device": "cpu"},
    },
    "baselines": [
        {"name": "coded", "separator": {"name": "codec_oracle", "params": {"codec": TINY, "checkpoint": "{codec:tiny}", "device": "cpu"}}},
        {"name": "coded_bad", "separator": {"name": "codec_oracle", "params": {"checkpoint": "{codec:bad}", "device": "cpu"}}},
        {"name": "copy", "separator": {"name": "mixture_copy"}},
    ],
    "data": {
        "train": {"name": "synthetic", "params": {**SYNTH, "split": "train"}},
        "test": {"name": "synthetic", "params": {**SYNTH, "split": "test"}},
    },
    "budget": {"steps": 1, "cpu_seconds": 0.001},
    "metrics": ["si_sdr"],
    "songs": 1,
}


@pytest.mark.slow
def test_codecs_are_trained_for_the_rows_that_load_them(tmp_path) -> None:
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(GRID))
    results = {r["row"]: r for r in run_grid(path, tmp_path / "out").results}
    step_dir = tmp_path / "out" / "codecs" / "tiny" / "run" / "checkpoints" / "step_00000001"
    assert (step_dir / "codec.safetensors").is_file()
    assert results["coded"]["status"] == "ok" and results["copy"]["status"] == "ok"
    assert results["coded"]["config"]["codecs"]["tiny"]["budget"] == {"steps": 1}  # the row's config names its codec
    state = json.loads((step_dir / "state.json").read_text())
    assert results["coded"]["codec_compute"]["tiny"] == {"wall_seconds": state["train_seconds"], "cpu_seconds": state["train_cpu_seconds"]}
    assert state["train_cpu_seconds"] > 0 and results["copy"]["codec_compute"] == {}  # its training compute
    assert results["coded_bad"]["error"].startswith("codec 'bad' has no checkpoint: unknown codec 'no_such_codec'")
    used = results["base"]["codec_compute"]["tiny"]["cpu_seconds"]
    assert results["base"]["error"] == (
        f"seed 0: row base: training its codec (tiny) alone used {used:.1f} CPU s of the 0.001 CPU s budget; nothing is left to train the row"
    )
    assert not (tmp_path / "out" / "rows" / "base" / "seed_0" / "run").exists()
    stored = json.loads((tmp_path / "out" / "rows" / "coded" / "result.json").read_text())
    assert stored["config"]["separator"]["params"]["checkpoint"] == "{codec:tiny}"


def test_unknown_codec_references_are_refused(tmp_path) -> None:
    path = tmp_path / "grid.yaml"
    path.write_text(
        yaml.safe_dump(
            {**GRID, "baselines": [{"name": "x", "separator": {"name": "codec_oracle", "params": {"checkpoint": "{codec:nope}"}}}]}
        )
    )
    with pytest.raises(ConfigError, match=r"\{codec:nope\} refers to no codec"):
        run_grid(path, tmp_path / "out")


def test_a_codec_data_section_without_a_name_overrides_the_grid_data_params() -> None:
    """Grid codecs train on the grid's training data; ``data: {params: {...}}`` changes only those
    params (mono items for a cheaper codec), and a named ``data`` replaces it."""
    grid_data = ComponentSpec(name="musdb", params={"root": "OUT/data", "split": "train", "sample_rate": 16000})
    assert codec_sections({"codec": TINY}, grid_data)["data"] == grid_data.model_dump(mode="json")
    mono = codec_sections({"codec": TINY, "data": {"params": {"channels": 1}}}, grid_data)["data"]
    assert mono == {
        **grid_data.model_dump(mode="json"),
        "params": {"root": "OUT/data", "split": "train", "sample_rate": 16000, "channels": 1},
    }
    own = {"name": "synthetic", "params": {"songs": 2}}
    assert codec_sections({"codec": TINY, "data": own}, grid_data)["data"] == own


@pytest.mark.slow
def test_a_resumed_grid_trains_only_the_codecs_its_pending_runs_use(tmp_path) -> None:
    """A grid resumed from its stored results alone (the codec runs lost, as in a fresh checkout)
    trains no codec while every run using it is finished, keeps each run's recorded codec compute
    and weights checksums, and trains the codec again once a run using it must run."""
    grid = {**GRID, "baselines": GRID["baselines"][:1] + GRID["baselines"][2:]}  # no failing codec row
    grid["codecs"] = {"tiny": GRID["codecs"]["tiny"]}
    del grid["base"]
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(grid))
    out = tmp_path / "out"
    copy_only = {r["row"]: r for r in run_grid(path, out, only=["copy"]).results}
    assert copy_only["copy"]["status"] == "ok" and not (out / "codecs").exists()  # no selected run uses the codec
    assert copy_only["coded"]["status"] == "pending" and copy_only["coded"]["error"] == "not run yet"
    assert not (out / "rows" / "coded" / "result.json").exists()
    with pytest.raises(ConfigError, match="no row named 'nope'"):
        run_grid(path, out, only=["nope"])
    first = {r["row"]: r for r in run_grid(path, out).results}
    step_dir = out / "codecs" / "tiny" / "run" / "checkpoints" / "step_00000001"
    weights = json.loads((step_dir / "checksums.json").read_text())["sha256"]["codec.safetensors"]
    stored = json.loads((out / "rows" / "coded" / "result.json").read_text())
    assert stored["codec_checksums"] == {"tiny": {"codec.safetensors": weights}}
    assert stored["codec_compute"] == first["coded"]["codec_compute"]

    import shutil

    shutil.rmtree(out / "codecs")
    again = run_grid(path, out)
    assert not (out / "codecs").exists() and again.ran == []
    resumed = {r["row"]: r for r in again.results}
    assert resumed["coded"]["codec_compute"] == first["coded"]["codec_compute"]  # from the stored run

    (out / "rows" / "coded" / "result.json").unlink()
    third = run_grid(path, out)
    assert third.ran == ["coded"] and (step_dir / "codec.safetensors").is_file()
    retrained = json.loads((out / "rows" / "coded" / "result.json").read_text())
    assert retrained["codec_checksums"] == stored["codec_checksums"]  # same config and seed: same weights
