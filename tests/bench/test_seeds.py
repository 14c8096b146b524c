"""Training seeds, declared comparisons and provenance on a tiny grid: a generative row trained
once per seed (its own run folder each, resumable per seed), deterministic baselines run once and
paired with every seed, pooled tables, the comparisons table, and the provenance block."""

import json
import re
import subprocess
from pathlib import Path

import pytest
import yaml

from tokensep_core.bench import grid_provenance, run_grid, summarize, write_report
from tokensep_core.code_version import code_version

pytestmark = pytest.mark.slow  # trains a tiny LM twice, evaluates four rows (~10 s on 2 cores)

GRID = {
    "base": {
        "model": {
            "codec": {"name": "debug"},
            "encoder": {"name": "debug"},
            "lm": {"name": "llama", "params": {"preset": "tiny"}},
        },
        "augment": {"seconds": 0.25, "examples_per_epoch": 8},
        "inference": {"segment_seconds": 0.25, "batch_size": 8},
        "trainer": {"batch_size": 2, "lr": 3.0e-3, "warmup_steps": 1, "checkpoint_every": 0, "log_every": 1, "device": "cpu"},
    },
    "baselines": [
        {"name": "silence", "separator": {"name": "silence"}},
        {"name": "mixture_copy", "separator": {"name": "mixture_copy"}},
        {"name": "oracle", "separator": {"name": "oracle"}},
    ],
    "data": {"synth": {"songs": 4, "seconds": 0.5, "sample_rate": 16000, "seed": 0, "test_fraction": 0.5}},
    "budget": {"steps": 2},
    "metrics": ["si_sdr", "usdr", "mel_distance"],
    "seeds": [0, 1],
    "comparisons": [{"a": "oracle", "b": "mixture_copy"}, {"a": "mixture_copy", "b": "oracle"}, {"a": "base", "b": "silence"}],
}
COMMAND = "tokensep bench grid.yaml -o out"


def _write(path: Path, grid: dict) -> Path:
    path.write_text(yaml.safe_dump(grid))
    return path


@pytest.fixture(scope="module")
def bench(tmp_path_factory):
    root = tmp_path_factory.mktemp("seeds")
    grid_path = _write(root / "grid.yaml", GRID)
    grid_run = run_grid(grid_path, root / "out")
    summary = summarize(grid_run.results, [(c.a, c.b) for c in grid_run.grid.comparisons])
    paths = write_report(summary, root / "out", grid_provenance(grid_run.grid, COMMAND))
    return grid_path, root / "out", grid_run, summary, paths


def test_each_seed_trains_its_own_run(bench) -> None:
    _, out, grid_run, _, _ = bench
    base = next(r for r in grid_run.results if r["row"] == "base")
    assert base["status"] == "ok" and [run["seed"] for run in base["runs"]] == [0, 1]
    for run in base["runs"]:
        seed, training = run["seed"], run["config"]["training"]
        assert (training["trainer"]["seed"], training["model"]["seed"], training["augment"]["seed"]) == (seed, seed, seed)
        assert {song["seed"] for song in run["evaluation"]["songs"]} == {seed}  # sampled with its training seed
        assert json.loads((out / "rows" / "base" / f"seed_{seed}" / "result.json").read_text())["config"] == run["config"]
        assert run["training"]["steps"] == 2 and run["training"]["cpu_seconds"] > 0 and run["training"]["budget"] == {"steps": 2}
    weights = [
        next((out / "rows" / "base" / f"seed_{s}" / "run" / "checkpoints").glob("step_*/lm.safetensors")).read_bytes() for s in (0, 1)
    ]
    assert weights[0] != weights[1]  # two different trainings
    assert not (out / "rows" / "base" / "result.json").exists()


def test_deterministic_baselines_run_once(bench) -> None:
    _, out, grid_run, summary, _ = bench
    copy = next(r for r in grid_run.results if r["row"] == "mixture_copy")
    assert copy["seed_dependent"] is False and len(copy["runs"]) == 1
    assert (out / "rows" / "mixture_copy" / "result.json").is_file() and not list((out / "rows" / "mixture_copy").glob("seed_*"))
    rows = {r.name: r for r in summary.rows}
    assert rows["mixture_copy"].seeds == [None] and rows["base"].seeds == [0, 1]


def test_tables_pool_songs_and_seeds(bench) -> None:
    _, _, grid_run, summary, paths = bench
    base = next(r for r in grid_run.results if r["row"] == "base")
    cells = [song["scores"]["vocals"]["si_sdr"] for run in base["runs"] for song in run["evaluation"]["songs"]]
    per_seed = [sum(cells[:2]) / 2, sum(cells[2:]) / 2]
    pooled = next(r for r in summary.rows if r.name == "base").estimates["si_sdr"]["vocals"]
    assert len(cells) == 4 and pooled.value == pytest.approx(sum(cells) / 4)
    assert (pooled.n, pooled.seeds) == (2, 2) and (pooled.seed_min, pooled.seed_max) == pytest.approx((min(per_seed), max(per_seed)))
    line = next(line for line in paths["results.md"].read_text().splitlines() if line.startswith("| base | ") and "2 seeds: " in line)
    assert line.count("[") == 4  # an interval over songs and seeds per stem, then the spread of the per-seed means


def test_comparisons_are_oriented_so_that_positive_means_a_is_better(bench) -> None:
    _, _, _, _, paths = bench
    table = paths["results.md"].read_text().split("## Comparisons")[1].split("## Controls")[0]
    for metric in ("si_sdr", "mel_distance"):  # higher and lower is better
        oracle_first = next(line for line in table.splitlines() if line.startswith(f"| oracle | mixture_copy | {metric} | vocals |"))
        assert "| 2/2 | above 0 | " in oracle_first  # the oracle wins on both songs
        copy_first = next(line for line in table.splitlines() if line.startswith(f"| mixture_copy | oracle | {metric} | vocals |"))
        assert "| 0/2 | below 0 | " in copy_first
    data = json.loads(paths["results.json"].read_text())
    versus_silence = next(c for c in data["comparisons"] if c["b"] == "silence")
    assert versus_silence["seed_pairs"] == [[0, None], [1, None]]  # silence meets every seed of base
    assert versus_silence["differences"]["usdr"]["vocals"]["pairs"] == 4  # 2 seeds x 2 songs
    page = paths["report.html"].read_text()
    assert "<h2>Comparisons</h2>" in page and "<td>above 0</td>" in page


def test_the_provenance_block_names_the_commit_and_the_command(bench) -> None:
    _, _, _, _, paths = bench
    provenance = json.loads(paths["results.json"].read_text())["provenance"]
    repo = Path(__file__).resolve().parents[2]
    commit = subprocess.run(["git", "rev-parse", "HEAD"], cwd=repo, capture_output=True, text=True, check=True).stdout.strip()
    assert re.fullmatch(f"{commit}(-dirty)?", provenance["code_version"])
    assert provenance["command"] == COMMAND and provenance["seeds"] == [0, 1] and provenance["budget"] == {"steps": 2}
    assert provenance["machine"]["logical_cores"] >= 1 and provenance["machine"]["torch"]
    assert provenance["compute"]["base"]["training"]["cpu_seconds"] > 0 and provenance["compute"]["oracle"]["training"]["cpu_seconds"] == 0
    markdown = paths["results.md"].read_text().split("## Provenance")[1]
    assert f"- Command: {COMMAND}\n" in markdown and f"- Code: tokensep {provenance['code_version']}\n" in markdown
    base = next(line for line in markdown.splitlines() if line.startswith("| base | 2 | cpu |"))
    assert base.endswith(" | – | – | 2 steps |")  # no codec; the budget its trainer was given
    assert "<h2>Provenance</h2>" in paths["report.html"].read_text()


def test_code_version_is_unknown_outside_a_work_tree(tmp_path) -> None:
    assert code_version(tmp_path) == "unknown"
    assert code_version(Path(__file__).resolve().parent) == "unknown"  # inside a work tree, but not its top


def test_a_row_with_seeds_not_run_yet_is_partial_and_scored_over_its_finished_seeds(bench, tmp_path) -> None:
    """A grid resumed with ``only`` (``--rows``) other rows: a row with finished and unrun seeds is
    ``partial``, names the seeds not run, stores nothing for them, and is scored and compared
    over its finished seeds."""
    _, out, _, _, _ = bench
    grid_run = run_grid(_write(tmp_path / "grid.yaml", {**GRID, "seeds": [0, 1, 7]}), out, only=["silence"])
    assert grid_run.ran == [] and not (out / "rows" / "base" / "seed_7").exists()
    base = next(r for r in grid_run.results if r["row"] == "base")
    assert base["status"] == "partial" and base["error"] == "seed 7 not run yet"
    summary = summarize(grid_run.results, [("base", "silence")])
    row = next(r for r in summary.rows if r.name == "base")
    assert row.scored and row.status == "partial" and row.seeds == [0, 1]
    assert summary.comparisons[0].error is None and len(summary.comparisons[0].pairs) == 2


def test_a_new_seed_runs_alone_and_a_changed_row_is_refused(bench, tmp_path) -> None:
    grid_path, out, _, _, _ = bench
    stamps = {p: p.stat().st_mtime_ns for p in (out / "rows").rglob("result.json")}
    more = run_grid(_write(tmp_path / "more.yaml", {**GRID, "seeds": [0, 1, 2]}), out)
    assert more.ran == ["base"]  # the deterministic baselines do not depend on the seed: kept
    assert all(p.stat().st_mtime_ns == stamp for p, stamp in stamps.items())
    assert [run["seed"] for run in next(r for r in more.results if r["row"] == "base")["runs"]] == [0, 1, 2]

    changed = run_grid(_write(tmp_path / "changed.yaml", {**GRID, "budget": {"steps": 3}}), out)
    base = next(r for r in changed.results if r["row"] == "base")
    assert base["status"] == "failed" and base["error"].startswith("seed 0: the row's config changed") and changed.ran == []
    assert all(p.stat().st_mtime_ns == stamp for p, stamp in stamps.items())


def test_a_row_stored_before_per_seed_runs_is_kept_and_named(bench, tmp_path) -> None:
    _, out, _, _, _ = bench
    old = json.loads((out / "rows" / "base" / "seed_0" / "result.json").read_text())
    old.pop("seed")
    grid = {**GRID, "baselines": [], "comparisons": []}
    stored = tmp_path / "out" / "rows" / "base" / "result.json"
    stored.parent.mkdir(parents=True)
    stored.write_text(json.dumps(old))
    result = run_grid(_write(tmp_path / "grid.yaml", grid), tmp_path / "out").results[0]
    assert result["status"] == "failed" and "is not a per-seed result" in result["error"] and stored.read_text() == json.dumps(old)
    summary = summarize([old])  # a stored result of a whole row is still read
    assert summary.rows[0].estimates["si_sdr"]["vocals"].n == 2
