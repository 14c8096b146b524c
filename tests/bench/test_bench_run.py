"""Running a grid end to end on cheap rows: a trained teacher, bounds and a broken row; the
report files, resuming, and failure isolation."""

import csv
import json

import pytest
import yaml

from tokensep_core.bench import grid_provenance, run_grid, summarize, write_report

pytest.importorskip("tokensep_teachers", reason="plugin not installed: pip install -e plugins/tokensep-teachers")
pytestmark = pytest.mark.slow  # trains a tiny HTDemucs and evaluates four rows (~5-10 s)

SYNTH = {"songs": 4, "seconds": 1.0, "sample_rate": 16000, "seed": 2, "test_fraction": 0.5}
TINY_HTDEMUCS = {
    "segment": 0.5,
    "channels_hidden": 8,
    "depth": 3,
    "nfft": 256,
    "t_layers": 1,
    "t_heads": 2,
    "dconv_comp": 4,
    "device": "cpu",
}
GRID = {
    "base": {"augment": {"seconds": 0.5, "examples_per_epoch": 8}, "trainer": {"batch_size": 2, "checkpoint_every": 0, "device": "cpu"}},
    "baselines": [
        {"name": "mixture_copy", "separator": {"name": "mixture_copy"}},
        {"name": "broken", "separator": {"name": "no_such_separator"}},
        {"name": "oracle", "separator": {"name": "oracle"}},
        {"name": "htdemucs", "separator": {"name": "htdemucs", "params": TINY_HTDEMUCS}, "train": True},
    ],
    "data": {
        "train": {"name": "synthetic", "params": {**SYNTH, "split": "train"}},
        "test": {"name": "synthetic", "params": {**SYNTH, "split": "test"}},
    },
    "budget": {"steps": 2},
    "metrics": ["si_sdr", "usdr"],
}


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    grid = root / "grid.yaml"
    grid.write_text(yaml.safe_dump(GRID))
    first = run_grid(grid, root / "out")
    provenance = grid_provenance(first.grid, "tokensep bench grid.yaml")
    paths = write_report(summarize(first.results), root / "out", provenance)
    return grid, root / "out", first, paths


def test_a_broken_row_is_recorded_and_the_others_finish(bench) -> None:
    _, out, first, _ = bench
    status = {r["row"]: r["status"] for r in first.results}
    assert status == {"mixture_copy": "ok", "broken": "failed", "oracle": "ok", "htdemucs": "ok"}
    broken = json.loads((out / "rows" / "broken" / "result.json").read_text())
    assert broken["error"].startswith("unknown separator 'no_such_separator'") and "\n" not in broken["error"]
    assert (out / "rows" / "broken" / "error.log").read_text().startswith("Traceback")


def test_the_teacher_is_trained_with_the_grid_budget_and_loaded_from_its_checkpoint(bench) -> None:
    _, out, first, _ = bench
    teacher = next(r for r in first.results if r["row"] == "htdemucs")
    [run] = teacher["runs"]  # one seed
    assert run["seed"] == 0 and run["training"]["steps"] == 2 and run["config"]["trainer"]["seed"] == 0
    assert teacher["config"]["separator"]["params"]["sample_rate"] == 16000
    assert (out / "rows" / "htdemucs" / "seed_0" / "run" / "checkpoints").is_dir()
    assert run["evaluation"]["summary"]["vocals"]["si_sdr"] < 30  # two steps do not separate


def test_report_files(bench) -> None:
    _, out, first, paths = bench
    markdown = paths["results.md"].read_text()
    assert "## si_sdr ↑" in markdown and "| broken | separator | failed |" in markdown
    oracle_line = next(line for line in markdown.splitlines() if line.startswith("| oracle |") and "[" in line)
    assert oracle_line.count("[") == 4  # an interval for each stem over the two test songs
    csv_lines = paths["results.csv"].read_text().splitlines()
    assert csv_lines[0] == "row,metric,stem,value,ci_low,ci_high,songs,seeds,seed_min,seed_max,rtf,peak_rss_mib"
    assert any(line.startswith("oracle,usdr,bass,") for line in csv_lines)
    for name in ("si_sdr.png", "si_sdr_vs_rtf.png", "usdr.png", "usdr_vs_rtf.png"):
        assert (out / "plots" / name).read_bytes()[:4] == b"\x89PNG"
    page = paths["report.html"].read_text()
    assert page.count("data:image/png;base64,") == 4 and 'src="plots/' not in page
    assert "no_such_separator" in page and "HTDemucsTask" in page  # every row's exact config
    data = json.loads(paths["results.json"].read_text())
    mixture = next(r for r in data["rows"] if r["row"] == "mixture_copy")
    assert mixture["estimates"]["si_sdr"]["vocals"]["n"] == 2


def test_every_row_has_its_mismatched_control_input_dependence_and_verdict(bench) -> None:
    _, _, _, paths = bench
    markdown = paths["results.md"].read_text()
    si_sdr = markdown.split("## si_sdr ↑")[1].split("## usdr")[0]
    lines = [line.split(" | ")[0] for line in si_sdr.splitlines() if line.startswith("| ")][1:]  # after the header
    assert lines == [
        "| mixture_copy",
        "| mixture_copy (mismatched)",
        "| oracle",
        "| oracle (mismatched)",
        "| htdemucs",
        "| htdemucs (mismatched)",
    ]
    controls = markdown.split("## Controls")[1].split("## Provenance")[0]
    assert "| oracle | bass | 1.00 |" in controls and controls.count("| oracle |") == 4
    assert "oracle (mismatched),usdr,bass," in paths["results.csv"].read_text()
    data = json.loads(paths["results.json"].read_text())
    oracle = next(r for r in data["rows"] if r["row"] == "oracle")
    assert {stem: c["verdict"] for stem, c in oracle["controls"].items()} == dict.fromkeys(
        ("vocals", "drums", "bass", "other"), "uses the mixture"
    )
    assert oracle["input_dependence"]["vocals"] == pytest.approx(1.0) and oracle["mismatched"]["si_sdr"]["vocals"]["n"] == 2
    page = paths["report.html"].read_text()
    assert "<h2>Controls</h2>" in page and "<td>oracle (mismatched)</td>" in page


def test_a_rerun_skips_finished_rows_and_retries_failed_ones(bench) -> None:
    grid, out, first, _ = bench
    stamp = (out / "rows" / "oracle" / "result.json").stat().st_mtime_ns
    again = run_grid(grid, out)
    assert again.skipped == ["mixture_copy", "oracle", "htdemucs"] and again.ran == ["broken"]
    assert (out / "rows" / "oracle" / "result.json").stat().st_mtime_ns == stamp
    assert [r["row"] for r in again.results] == [r["row"] for r in first.results]


def test_a_changed_row_keeps_its_stored_result_and_says_so(bench, tmp_path) -> None:
    grid, out, _, _ = bench
    changed = {**GRID, "metrics": ["si_sdr"], "baselines": GRID["baselines"][:1]}
    path = tmp_path / "grid.yaml"
    path.write_text(yaml.safe_dump(changed))
    stored = (out / "rows" / "mixture_copy" / "result.json").read_text()
    result = run_grid(path, out).results[0]
    assert result["status"] == "failed" and "config changed" in result["error"]
    assert (out / "rows" / "mixture_copy" / "result.json").read_text() == stored


def test_scores_csv_holds_every_per_song_score_behind_the_estimates(bench) -> None:
    _, _, _, paths = bench
    with paths["scores.csv"].open() as handle:
        lines = list(csv.DictReader(handle))
    assert list(lines[0]) == ["row", "reference", "seed", "song", "metric", "stem", "value"]
    data = json.loads(paths["results.json"].read_text())
    for row in ("mixture_copy", "oracle"):
        own = [float(r["value"]) for r in lines if (r["row"], r["reference"], r["metric"], r["stem"]) == (row, "own", "si_sdr", "vocals")]
        estimate = next(r for r in data["rows"] if r["row"] == row)["estimates"]["si_sdr"]["vocals"]
        assert len(own) == estimate["n"] == 2 and sum(own) / len(own) == pytest.approx(estimate["value"])
        mismatched = [r for r in lines if (r["row"], r["reference"], r["metric"], r["stem"]) == (row, "mismatched", "si_sdr", "vocals")]
        assert len(mismatched) == 2 and {r["song"] for r in mismatched} == {r["song"] for r in lines if r["row"] == row}
    assert not any(r["row"] == "broken" for r in lines)  # a failed row has no scores
