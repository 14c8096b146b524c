"""Running a grid: prepare the data, then train/load and evaluate every row, each run's result
stored atomically in ``OUT/rows/<row>/result.json`` (a trained row: one run per seed, in
``OUT/rows/<row>/seed_<N>/result.json``); finished runs are skipped on a re-run, and a failing
run is recorded with its one-line error while the others go on."""

from __future__ import annotations

import copy
import time
import traceback
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tqdm import tqdm

from tokensep_core.bench.compute import training_compute
from tokensep_core.bench.grid import GridConfig, load_grid
from tokensep_core.bench.replay import RecordedSteps, check_replayable, with_recorded_steps
from tokensep_core.bench.rows import Row, build_row, evaluate_row, mismatched_offset, resolve_rows, row_runs
from tokensep_core.config import ComponentSpec, read_config_file, validate_model
from tokensep_core.data.writer import write_synthetic_dataset
from tokensep_core.errors import ConfigError, TokensepError
from tokensep_core.evaluation import BuiltMetric, build_metrics, default_metric_specs
from tokensep_core.evaluation.controls import check_offset
from tokensep_core.evaluation.tables import write_json, write_text
from tokensep_core.interfaces import StemDataset
from tokensep_core.plugins import LoadedPlugins, load_plugins
from tokensep_core.registry import ComponentRegistry
from tokensep_core.runtime.run_lock import held_elsewhere, run_lock
from tokensep_core.training import TrainerConfig, train
from tokensep_core.training.checkpoint import recorded_checksums, resolve_checkpoint
from tokensep_core.training.spec import TrainingTaskSpec

RESULT = "result.json"
NOT_RUN = "not run yet"
RUNNING_ELSEWHERE = "running in another process"


@dataclass
class GridRun:
    """What :func:`run_grid` did: every row's stored result and which rows ran now."""

    grid: GridConfig
    results: list[dict[str, Any]]
    ran: list[str]
    skipped: list[str]


def prepare_data(grid: GridConfig, out: Path, registry: ComponentRegistry) -> tuple[ComponentSpec | None, ComponentSpec, int | None]:
    """-> (train spec, None when nothing trains; test spec; training sample rate if known); a
    ``synth`` block is written first."""
    data = grid.data
    if data.synth is None:
        assert data.test is not None  # DataConfig validates this
        rate = data.train.params.get("sample_rate") if data.train is not None else None
        return data.train, data.test, int(rate) if rate is not None else None
    synth = data.synth
    root = out / "data"
    renderer = registry.build("renderer", synth.renderer, source="data.synth.renderer")
    write_synthetic_dataset(
        root,
        synth.songs,
        synth.seconds,
        synth.sample_rate,
        synth.seed,
        renderer,
        test_fraction=synth.test_fraction,
        renderer_name=synth.renderer,
    )
    specs = [
        ComponentSpec(name="musdb", params={"root": str(root.resolve()), "split": split, "sample_rate": synth.sample_rate})
        for split in ("train", "test")
    ]
    return specs[0], specs[1], synth.sample_rate


def train_codecs(
    grid: GridConfig, out: Path, train_spec: ComponentSpec | None, source: str, command: TrainingTaskSpec | None, names: set[str]
) -> dict[str, Path | str]:
    """Train (or resume, or find finished) the grid codecs ``names`` into ``OUT/codecs/NAME/run``
    with ``command``, the ``codec`` training task -> ``{name: checkpoint directory or one-line error}``;
    each codec's training compute is read from its checkpoint (:func:`training_compute`)."""
    if command is None:
        return dict.fromkeys(names, "no 'tokensep train codec' command is installed")
    assert train_spec is not None  # GridConfig validates that codecs have training data
    found: dict[str, Path | str] = {}
    for name in sorted(names):
        config = grid.codecs[name]
        sections = codec_sections(config, train_spec)
        trainer_section = {**sections.pop("trainer", {}), **(grid.codec_budget.trainer_overrides() if grid.codec_budget else {})}
        run_dir = out / "codecs" / name / "run"
        try:
            trainer = validate_model(TrainerConfig, trainer_section, f"{source}: codecs.{name}.trainer")
            task, dataset = command.build(sections, f"{source}: codecs.{name}")
            train(task, trainer, run_dir, dataset)
            found[name] = resolve_checkpoint(run_dir)
        except Exception as err:  # rows using this codec fail with this error; the others go on
            found[name] = one_line(err)
            write_text(out / "codecs" / name / "error.log", traceback.format_exc())
        tqdm.write(f"[bench] codec {name}: {found[name]}")
    return found


def codec_sections(config: dict[str, Any], train_spec: ComponentSpec) -> dict[str, Any]:
    """A grid codec's training sections: its ``data`` is the grid's training data, or, when the
    codec gives ``data`` without a ``name``, that data with the given ``params`` merged in (e.g.
    ``{params: {channels: 1}}`` trains on mono items of the same songs)."""
    sections = copy.deepcopy(config)
    grid_data = train_spec.model_dump(mode="json")
    given = sections.get("data")
    if given is None:
        sections["data"] = grid_data
    elif "name" not in given:
        sections["data"] = {**grid_data, "params": {**(grid_data.get("params") or {}), **(given.get("params") or {})}}
    return sections


def _weights_checksums(checkpoint: Path | str | None) -> dict[str, str] | None:
    """The sha256 of each weights file of a codec checkpoint, as it records them: which weights a
    run used, so runs of one row trained in different sessions can be checked to share a codec."""
    if not isinstance(checkpoint, Path):
        return None
    try:
        sums = recorded_checksums(checkpoint)
    except TokensepError:
        return None
    return {name: digest for name, digest in sums.items() if name.endswith(".safetensors")}


def one_line(err: BaseException) -> str:
    """A row's error as one line: the message of a TokensepError, else type and first line."""
    lines = str(err).strip().splitlines()
    if isinstance(err, TokensepError):
        return lines[0] if lines else type(err).__name__
    return f"{type(err).__name__}: {lines[0]}" if lines else type(err).__name__


def stored_result(row_dir: Path) -> dict[str, Any] | None:
    try:
        return read_config_file(row_dir / RESULT)
    except TokensepError:
        return None


def remove_stale_temporaries(out: Path) -> None:
    """Delete the hidden ``.NAME.….part`` files of atomic writes (``audio_io.atomic_path``) that a
    killed run left under ``out``; nothing ever reads them, the renamed complete file is the output."""
    for path in out.rglob(".*.part"):
        if path.is_file():
            path.unlink(missing_ok=True)


def run_grid(
    grid_path: str | Path,
    out: str | Path,
    plugins: LoadedPlugins | None = None,
    only: list[str] | None = None,
    steps_from: RecordedSteps | None = None,
) -> GridRun:
    """Run (or resume) the grid in ``grid_path`` into ``out`` with the components, training tasks
    and trainable baselines of ``plugins`` (default: every loadable plugin). ``only``: run just
    these rows (others keep their stored results, or are reported as not run). ``steps_from``: stop
    each trained run at the step recorded for it (tokensep_core.bench.replay). Each grid codec is
    trained when the first run that uses it must run, so a resumed grid whose runs using a codec
    are all finished never trains it again."""
    source = str(grid_path)
    grid = load_grid(grid_path)
    if steps_from is not None:
        check_replayable(grid, source)
    plugins = plugins or load_plugins()
    registry = plugins.registry
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    remove_stale_temporaries(out)
    train_spec, test_spec, rate = prepare_data(grid, out, registry)
    rows = resolve_rows(grid, train_spec, test_spec, rate, source, plugins.trainable_baselines)
    unknown = sorted(set(only or ()) - {row.name for row in rows})
    if unknown:
        raise ConfigError(f"{source}: no row named {', '.join(map(repr, unknown))} (rows: {', '.join(row.name for row in rows)})")
    # before anything trains, so a missing recorded step fails the grid at once
    replayed = {
        (row.name, seed): with_recorded_steps(run, seed, steps_from, source)
        for row in (rows if steps_from is not None else ())
        if row.trained
        for seed, run in row_runs(row)
    }
    codec_task = plugins.training_tasks.get("codec")
    codecs: dict[str, Path | str] = {}
    metric_specs = grid.metrics if grid.metrics is not None else default_metric_specs(grid.nisqa_weights)
    metrics = build_metrics(registry, metric_specs, f"{source}: metrics")
    test = registry.build("dataset", test_spec, source=f"{source}: data.test")
    try:  # before anything trains: every row's evaluation would fail on it
        check_offset(grid.mismatched_offset, len(test) if grid.songs is None else min(grid.songs, len(test)))
    except ConfigError as err:
        raise ConfigError(f"{source}: {err} (test songs)") from None
    results, ran, skipped = [], [], []
    for row in tqdm(rows, desc="bench", unit="row"):
        row_dir = out / "rows" / row.name
        runs, fresh = [], False
        names = sorted(row.config.get("codecs", {}))
        if row.trained and (row_dir / RESULT).is_file():  # kept, never overwritten silently
            error = f"{row_dir / RESULT} is not a per-seed result (stored before rows trained once per seed); delete {row_dir} to run the row again"
            runs.append({**_new_result(row, None), "error": error})
        else:
            for seed, run in row_runs(row):
                run = replayed.get((row.name, seed), run)
                run_dir = row_dir if seed is None else row_dir / f"seed_{seed}"
                result = _finished(run, seed, run_dir)
                if result is None and only is not None and row.name not in only:
                    result = _stored_failure(run_dir) or (
                        _running_elsewhere(run, seed, run_dir)
                        if held_elsewhere(run_dir)
                        else {**_new_result(run, seed), "status": "pending", "error": f"{NOT_RUN} (not among the rows this process runs)"}
                    )
                elif result is None:
                    with run_lock(run_dir) as mine:
                        # another process may be running it, or have finished it since it was read
                        result = _finished(run, seed, run_dir) if mine else _running_elsewhere(run, seed, run_dir)
                        if result is None:
                            missing = set(names) - set(codecs)
                            codecs |= train_codecs(grid, out, train_spec, source, codec_task, missing) if missing else {}
                            codec_compute = {name: training_compute(out / "codecs" / name / "run") for name in names}
                            result = _run_row(run, seed, run_dir, registry, test, metrics, codecs, codec_compute)
                            write_json(run_dir / RESULT, result)
                            fresh = True
                    label = row.name if seed is None else f"{row.name} seed {seed}"
                    tqdm.write(f"[bench] {label}: {result['status']}" + (f" ({result['error']})" if result["error"] else ""))
                runs.append(result)
        stored = next((r["codec_compute"] for r in runs if r.get("codec_compute")), None)
        # results stored before runs kept their codec compute: read it from the codec's checkpoint
        codec_compute = stored or {name: training_compute(out / "codecs" / name / "run") for name in names}
        results.append(_row_result(row, runs, codec_compute))
        (ran if fresh else skipped).append(row.name)
    return GridRun(grid, results, ran, skipped)


def _stored_failure(run_dir: Path) -> dict[str, Any] | None:
    """The stored result of a run that failed (reported as it is when the run is not selected)."""
    previous = stored_result(run_dir)
    return previous if previous is not None and previous.get("status") == "failed" else None


def _running_elsewhere(run: Row, seed: int | None, run_dir: Path) -> dict[str, Any]:
    """A pending result for a run that another process holds the lock of (it is not touched)."""
    return {**_new_result(run, seed), "status": "pending", "error": f"{RUNNING_ELSEWHERE} ({run_dir} is locked)"}


def _finished(run: Row, seed: int | None, run_dir: Path) -> dict[str, Any] | None:
    """The stored result of a finished run whose config is the run's config now; a failed result
    saying so when the config changed (the stored one is kept); None: the run must run, also when
    only its ``mismatched_offset`` changed (absent: 1), which only its evaluation uses: it is
    evaluated again and its result replaced, a trained row resuming its finished training (no step
    trained again)."""
    previous = stored_result(run_dir)
    if previous is None or previous.get("status") != "ok":
        return None
    stored, now = previous.get("config"), run.config
    if previous.get("seed_dependent") is False:  # its output is the same with any seed
        stored, now = {**stored, "seeds": None}, {**now, "seeds": None}
    offsets = mismatched_offset(stored), mismatched_offset(now)
    stored, now = {**stored, "mismatched_offset": None}, {**now, "mismatched_offset": None}
    if stored != now:
        return {
            **_new_result(run, seed),
            "error": f"the row's config changed since its result was stored; delete {run_dir} to run it again",
        }
    return previous if offsets[0] == offsets[1] else None


def _row_result(row: Row, runs: list[dict[str, Any]], codec_compute: dict[str, dict[str, float]]) -> dict[str, Any]:
    """A row's runs as one result: ``failed`` with the first failed run's error while any run
    failed; else ``partial`` (some runs ok, the others ``pending``: not run yet), ``pending`` or
    ``ok``."""
    failed = next((r for r in runs if r["status"] == "failed"), None)
    pending = [r for r in runs if r["status"] == "pending"]
    error = None
    if failed is not None:
        status = "failed"
        error = failed["error"] if failed.get("seed") is None else f"seed {failed['seed']}: {failed['error']}"
    elif pending:
        status = "partial" if len(pending) < len(runs) else "pending"
        elsewhere = [r for r in pending if (r["error"] or "").startswith(RUNNING_ELSEWHERE)]
        not_run = [r for r in pending if r not in elsewhere]
        error = "; ".join(
            _pending_reason(runs_for, reason) for runs_for, reason in ((not_run, NOT_RUN), (elsewhere, RUNNING_ELSEWHERE)) if runs_for
        )
    else:
        status = "ok"
    return {
        "row": row.name,
        "kind": row.kind,
        "config": row.config,
        "status": status,
        "error": error,
        "seed_dependent": True if row.trained else runs[0].get("seed_dependent"),
        "runs": runs,
        "codec_compute": codec_compute,
    }


def _pending_reason(runs: list[dict[str, Any]], reason: str) -> str:
    """``reason`` with the seeds of ``runs`` named ("seeds 1, 2 not run yet")."""
    seeds = [r["seed"] for r in runs if r.get("seed") is not None]
    return f"seed{'s' if len(seeds) > 1 else ''} {', '.join(map(str, seeds))} {reason}" if seeds else reason


def _new_result(row: Row, seed: int | None) -> dict[str, Any]:
    return {
        "row": row.name,
        "kind": row.kind,
        "seed": seed,
        "config": row.config,
        "status": "failed",
        "error": None,
        "training": {},
        "evaluation": None,
    }


def _run_row(
    row: Row,
    seed: int | None,
    run_dir: Path,
    registry: ComponentRegistry,
    test: StemDataset,
    metrics: list[BuiltMetric],
    codecs: dict[str, Path | str],
    codec_compute: dict[str, dict[str, float]],
) -> dict[str, Any]:
    result = _new_result(row, seed)
    # kept with the run: a resumed grid may not train the codec again once its runs are finished
    result["codec_compute"] = codec_compute
    result["codec_checksums"] = {name: _weights_checksums(codecs.get(name)) for name in codec_compute}
    started = time.time()
    try:
        outcome = build_row(row, run_dir, registry, codecs, codec_compute)
        result["training"] = outcome.training
        result["seed_dependent"] = row.trained or outcome.separator.stochastic
        result["evaluation"] = evaluate_row(outcome.separator, row, test, metrics).to_dict()
        result["status"] = "ok"
    except Exception as err:  # one failing row must not stop the grid
        result["error"] = one_line(err)
        write_text(run_dir / "error.log", traceback.format_exc())
    result["wall_minutes"] = (time.time() - started) / 60
    return result
