"""The grid's ``mismatched_offset``: validated, reaching every row's evaluation, in the report; a
grid without it (or with 1) keeps every stored result, another value evaluates the rows again
without training them again."""

import json
from pathlib import Path

import pytest
import yaml

from tokensep_core.bench import grid_provenance, run_grid, summarize, write_report
from tokensep_core.bench.grid import load_grid
from tokensep_core.bench.report import provenance_lines
from tokensep_core.bench.rows import resolve_rows
from tokensep_core.config import ComponentSpec
from tokensep_core.errors import ConfigError
from tokensep_core.plugins import load_plugins

GRID = {
    "baselines": [{"name": "copy", "separator": {"name": "mixture_copy"}}, {"name": "oracle", "separator": {"name": "oracle"}}],
    "data": {"synth": {"songs": 8, "seconds": 1.0, "sample_rate": 8000, "seed": 0, "test_fraction": 0.5}},
    "metrics": ["si_sdr"],
}
TEST = ComponentSpec(name="musdb", params={"root": "d", "split": "test"})


def _write(path: Path, grid: dict) -> Path:
    path.write_text(yaml.safe_dump(grid))
    return path


def _rows(tmp_path: Path, grid: dict):
    return resolve_rows(load_grid(_write(tmp_path / "grid.yaml", grid)), None, TEST, None, "grid.yaml", load_plugins().trainable_baselines)


def test_the_offset_is_validated(tmp_path) -> None:
    for bad in (0, -2, "two"):
        with pytest.raises(ConfigError, match="mismatched_offset"):
            load_grid(_write(tmp_path / "grid.yaml", {**GRID, "mismatched_offset": bad}))
    assert load_grid(_write(tmp_path / "grid.yaml", GRID)).mismatched_offset == 1


def test_a_grid_without_the_offset_or_with_1_resolves_the_configs_of_before(tmp_path) -> None:
    """The row config is the resume key: without the field (or with 1) it has no new key."""
    before = _rows(tmp_path, GRID)
    assert all("mismatched_offset" not in row.config for row in before)
    assert [r.config for r in _rows(tmp_path, {**GRID, "mismatched_offset": 1})] == [r.config for r in before]
    three = _rows(tmp_path, {**GRID, "mismatched_offset": 3})
    assert [r.config for r in three] == [{**r.config, "mismatched_offset": 3} for r in before]


def _mtimes(out: Path) -> dict[str, int]:
    return {row: (out / "rows" / row / "result.json").stat().st_mtime_ns for row in ("copy", "oracle")}


def _pairs(out: Path, row: str) -> tuple[int, list[tuple[str, str]]]:
    evaluation = json.loads((out / "rows" / row / "result.json").read_text())["evaluation"]
    return evaluation["mismatched_offset"], [(r["song"], r["reference_song"]) for r in evaluation["mismatched"]]


def test_stored_results_stay_valid_and_another_offset_evaluates_again(tmp_path) -> None:
    out = tmp_path / "out"
    grid = _write(tmp_path / "grid.yaml", GRID)
    first = run_grid(grid, out)
    assert first.ran == ["copy", "oracle"] and all(r["status"] == "ok" for r in first.results)
    offset, pairs = _pairs(out, "oracle")
    songs = [song for song, _ in pairs]
    assert offset == 1 and len(songs) == 4 and pairs == [(s, songs[(i + 1) % 4]) for i, s in enumerate(songs)]

    # a result stored before evaluations recorded the offset: still valid, read as offset 1
    path = out / "rows" / "copy" / "result.json"
    stored = json.loads(path.read_text())
    del stored["evaluation"]["mismatched_offset"]
    path.write_text(json.dumps(stored))
    stamps = _mtimes(out)
    for same in (GRID, {**GRID, "mismatched_offset": 1}):
        again = run_grid(_write(tmp_path / "grid.yaml", same), out)
        assert again.ran == [] and again.skipped == ["copy", "oracle"] and _mtimes(out) == stamps
    assert [r.mismatched_offset for r in summarize(again.results).rows] == [1, 1]

    two = run_grid(_write(tmp_path / "grid.yaml", {**GRID, "mismatched_offset": 2}), out)
    assert two.ran == ["copy", "oracle"] and all(r["status"] == "ok" for r in two.results)
    for row in ("copy", "oracle"):
        assert _pairs(out, row) == (2, [(s, songs[(i + 2) % 4]) for i, s in enumerate(songs)])
    summary = summarize(two.results)
    assert [r.mismatched_offset for r in summary.rows] == [2, 2]
    paths = write_report(summary, out, grid_provenance(two.grid, "tokensep bench grid.yaml"))
    markdown = paths["results.md"].read_text()
    assert "(song i against song i+2 mod n," in markdown and "i+1 mod n" not in markdown
    assert "- Mismatched offset: 2 (song i's estimates against song i+2 mod n's references)" in markdown
    assert json.loads(paths["results.json"].read_text())["provenance"]["mismatched_offset"] == 2

    stamps = _mtimes(out)
    assert run_grid(_write(tmp_path / "grid.yaml", {**GRID, "mismatched_offset": 2}), out).ran == [] and _mtimes(out) == stamps
    # any other change is still refused, offset or not
    changed = run_grid(_write(tmp_path / "grid.yaml", {**GRID, "mismatched_offset": 3, "metrics": ["usdr"]}), out)
    assert all(r["status"] == "failed" and "config changed" in r["error"] for r in changed.results) and _mtimes(out) == stamps
    back = run_grid(_write(tmp_path / "grid.yaml", GRID), out)  # back to the default: evaluated again with 1
    assert back.ran == ["copy", "oracle"] and _pairs(out, "oracle") == (1, pairs)


def test_an_offset_the_test_songs_cannot_take_fails_before_any_row_runs(tmp_path) -> None:
    with pytest.raises(ConfigError, match=r"grid\.yaml: mismatched_offset 4 needs at least 5 songs, got 4 \(test songs\)$"):
        run_grid(_write(tmp_path / "grid.yaml", {**GRID, "mismatched_offset": 4}), tmp_path / "out")
    assert not (tmp_path / "out" / "rows").exists()
    with pytest.raises(ConfigError, match="mismatched_offset 2 needs at least 3 songs, got 2"):
        run_grid(_write(tmp_path / "grid.yaml", {**GRID, "mismatched_offset": 2, "songs": 2}), tmp_path / "out")


def test_the_provenance_names_the_offset(tmp_path) -> None:
    lines = provenance_lines(grid_provenance(load_grid(_write(tmp_path / "grid.yaml", GRID)), "tokensep bench grid.yaml"))
    assert "Mismatched offset: 1 (song i's estimates against song i+1 mod n's references)" in lines


TRAINED = {
    "base": {
        "model": {"codec": {"name": "debug"}, "encoder": {"name": "debug"}, "lm": {"name": "llama", "params": {"preset": "tiny"}}},
        "augment": {"seconds": 0.25, "examples_per_epoch": 4},
        "inference": {"segment_seconds": 0.25, "batch_size": 8},
        "trainer": {"batch_size": 2, "warmup_steps": 1, "checkpoint_every": 0, "device": "cpu"},
    },
    "data": {"synth": {"songs": 6, "seconds": 0.5, "sample_rate": 16000, "seed": 0, "test_fraction": 0.5}},
    "budget": {"steps": 2},
    "metrics": ["si_sdr"],
}


@pytest.mark.slow  # trains a tiny LM for 2 steps
def test_a_trained_row_is_evaluated_again_without_training_again(tmp_path) -> None:
    out = tmp_path / "out"
    first = run_grid(_write(tmp_path / "grid.yaml", TRAINED), out)
    assert first.results[0]["status"] == "ok", first.results[0]["error"]
    checkpoints = out / "rows" / "base" / "seed_0" / "run" / "checkpoints"
    before = {p: p.stat().st_mtime_ns for p in checkpoints.rglob("*") if p.is_file()}
    again = run_grid(_write(tmp_path / "grid.yaml", {**TRAINED, "mismatched_offset": 2}), out)
    [run] = again.results[0]["runs"]
    assert again.ran == ["base"] and run["status"] == "ok" and run["evaluation"]["mismatched_offset"] == 2
    assert run["training"]["steps"] == 2
    assert {p: p.stat().st_mtime_ns for p in checkpoints.rglob("*") if p.is_file()} == before  # no step trained again
