"""The rows of a grid, resolved to the exact config each one runs, and running one row:
train it (or load it), then evaluate it. A trained row runs once per grid seed
(:func:`row_runs`): the seed sets its training seeds and its evaluation's sampling seed."""

from __future__ import annotations

import copy
import importlib
import json
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import torch

from tokensep_core.bench.compute import charge_codecs, state_compute
from tokensep_core.bench.grid import CODEC_REFERENCE, GridConfig, generative_rows, row_names
from tokensep_core.config import ComponentSpec, validate_model
from tokensep_core.data.sampling import AugmentConfig, TrainingExamples
from tokensep_core.errors import ConfigError
from tokensep_core.evaluation import BuiltMetric, Evaluation, evaluate, select_songs
from tokensep_core.interfaces import Separator, StemDataset
from tokensep_core.registry import ComponentRegistry
from tokensep_core.separation.separator import GenerativeSeparator
from tokensep_core.separation.training import build_separator_training
from tokensep_core.tables import Table
from tokensep_core.training import TrainerConfig, TrainingTask, train
from tokensep_core.training.checkpoint import read_json, resolve_checkpoint
from tokensep_core.training.spec import TrainableBaseline


@dataclass(frozen=True)
class Row:
    """One row of the grid: its name and the exact, JSON-ready config it runs."""

    name: str
    config: dict[str, Any]

    @property
    def kind(self) -> str:
        return self.config["kind"]

    @property
    def trained(self) -> bool:
        """Whether the row trains a model (once per seed) before it is evaluated."""
        return self.kind in TRAINED


TRAINED = ("generative", "teacher")
"""Row kinds that train; the others build a separator or load a checkpoint."""


@dataclass
class RowOutcome:
    """A trained (or loaded) separator and what its training did."""

    separator: Separator
    training: dict[str, Any]


def resolve_rows(
    grid: GridConfig,
    train_spec: ComponentSpec | None,
    test_spec: ComponentSpec,
    data_rate: int | None,
    source: str,
    trainable: Table[TrainableBaseline],
) -> list[Row]:
    """Every row with the budget, data, seeds and metrics it runs with, generative rows first;
    a trained baseline's task is its own ``task`` or the one ``trainable`` has for its separator."""
    row_names(grid, source)  # validates names
    budget = grid.budget.trainer_overrides() if grid.budget is not None else {}
    common = {
        "test": test_spec.model_dump(mode="json"),
        "seeds": grid.seeds,
        "songs": grid.songs,
        "metrics": [m.model_dump(mode="json") for m in grid.metrics] if grid.metrics is not None else None,
        # only when not the default: the config of a grid without it stays what it was before the field existed
        **({"mismatched_offset": grid.mismatched_offset} if grid.mismatched_offset != 1 else {}),
    }
    rows = []
    for name, config in generative_rows(grid, source):
        assert train_spec is not None  # GridConfig validates that trained rows have training data
        config["data"] = train_spec.model_dump(mode="json")
        config["trainer"] = {**config.get("trainer", {}), **budget}
        rows.append(Row(name, _json({"kind": "generative", "training": config, **common})))
    for baseline in grid.baselines:
        if baseline.checkpoint is not None:
            rows.append(Row(baseline.name, _json({"kind": "checkpoint", "checkpoint": str(baseline.checkpoint), **common})))
            continue
        spec = baseline.separator
        assert spec is not None  # Baseline validates that one source is given
        if not baseline.train:
            rows.append(Row(baseline.name, _json({"kind": "separator", "separator": spec.model_dump(mode="json"), **common})))
            continue
        assert train_spec is not None
        params = dict(spec.params)
        if data_rate is not None:
            params.setdefault("sample_rate", data_rate)
        registered = trainable.get(spec.name)
        task = baseline.task or (registered.task_path if registered is not None else None)
        if task is None:
            raise ConfigError(
                f"{source}: baseline {baseline.name!r}: no known training task for separator {spec.name!r}; set 'task: module:Class'"
            )
        rows.append(
            Row(
                baseline.name,
                _json(
                    {
                        "kind": "teacher",
                        "separator": {"name": spec.name, "params": params},
                        "task": task,
                        "data": train_spec.model_dump(mode="json"),
                        "augment": grid.base.get("augment", {}),
                        "trainer": {**grid.base.get("trainer", {}), **(baseline.budget.trainer_overrides() if baseline.budget else budget)},
                        **common,
                    }
                ),
            )
        )
    return [Row(row.name, _json(_with_codecs(row.config, grid))) for row in rows]


def row_runs(row: Row) -> list[tuple[int | None, Row]]:
    """The runs of a row as ``(seed, row to run)``: a trained row runs once per grid seed, with
    that seed as ``trainer.seed``, ``model.seed`` and ``augment.seed`` (where the config has
    them) and as its only evaluation seed; any other row runs once (seed None) with every seed."""
    if not row.trained:
        return [(None, row)]
    runs: list[tuple[int | None, Row]] = []
    for seed in row.config["seeds"]:
        config = copy.deepcopy(row.config)
        config["seeds"] = [seed]
        sections = config["training"] if row.kind == "generative" else config
        for section in ("trainer", "model", "augment"):
            if section in sections:
                sections[section]["seed"] = seed
        runs.append((seed, Row(row.name, config)))
    return runs


def _with_codecs(config: dict[str, Any], grid: GridConfig) -> dict[str, Any]:
    """Add the training config of every grid codec the row refers to, so a changed codec
    changes the row's config too."""
    names = sorted(set(CODEC_REFERENCE.findall(json.dumps(config, default=str))))
    if names:
        budget = grid.codec_budget.trainer_overrides() if grid.codec_budget else {}
        config["codecs"] = {name: {**grid.codecs[name], "budget": budget} for name in names}
    return config


def _json(data: dict[str, Any]) -> dict[str, Any]:
    """A JSON-normalised deep copy (paths as strings, tuples as lists): what result.json stores."""
    return json.loads(json.dumps(data, default=str))


def substitute_codecs(data: Any, codecs: dict[str, Path | str]) -> Any:
    """``data`` with every ``{codec:NAME}`` replaced by that codec's checkpoint directory;
    ``codecs`` maps a name to its directory, or to the error that left it without one."""
    if isinstance(data, dict):
        return {k: substitute_codecs(v, codecs) for k, v in data.items()}
    if isinstance(data, list):
        return [substitute_codecs(v, codecs) for v in data]
    if not isinstance(data, str):
        return data

    def replace(match: re.Match[str]) -> str:
        found = codecs.get(match.group(1))
        if not isinstance(found, Path):
            raise ConfigError(f"codec {match.group(1)!r} has no checkpoint: {found or 'it was not trained'}")
        return str(found)

    return CODEC_REFERENCE.sub(replace, data)


def build_row(
    row: Row,
    row_dir: Path,
    registry: ComponentRegistry,
    codecs: dict[str, Path | str],
    codec_compute: Mapping[str, Mapping[str, float]],
) -> RowOutcome:
    """Train the row's model into ``row_dir/run`` (resuming it) or load it -> its separator; the
    training's wall and CPU seconds behind its checkpoint are in the outcome (:func:`state_compute`).
    A CPU budget is charged with ``codec_compute``, the compute of the grid codecs the row uses."""
    source = f"row {row.name}"
    config = substitute_codecs(copy.deepcopy(row.config), codecs)
    if row.kind == "separator":
        return RowOutcome(registry.build("separator", config["separator"], source=source), {})
    if row.kind == "checkpoint":
        return RowOutcome(GenerativeSeparator.from_pretrained(config["checkpoint"], registry=registry), {})
    run_dir = row_dir / "run"
    if row.kind == "generative":
        sections = config["training"]
        trainer = validate_model(TrainerConfig, charge_codecs(sections.pop("trainer", {}), codec_compute, source), f"{source} [trainer]")
        task, examples = build_separator_training(sections, source, registry)
        result = train(task, trainer, run_dir, examples)
        separator: Separator = GenerativeSeparator.from_pretrained(run_dir, registry=registry, device=trainer.device)
    elif row.kind == "teacher":
        trainer = validate_model(TrainerConfig, charge_codecs(config["trainer"], codec_compute, source), f"{source} [trainer]")
        spec = ComponentSpec.model_validate(config["separator"])
        separator_config = registry.make_config("separator", spec.name, spec.params, source)
        torch.manual_seed(trainer.seed)  # the network's initial weights
        task = _task_class(config["task"], source)(separator_config)
        dataset: StemDataset = registry.build("dataset", config["data"], source=source)
        rate = getattr(separator_config, "sample_rate", dataset.sample_rate)
        if rate != dataset.sample_rate:
            raise ConfigError(f"{source}: separator sample_rate {rate} differs from the training data's {dataset.sample_rate}")
        augment = validate_model(AugmentConfig, config["augment"], f"{source} [augment]")
        examples = TrainingExamples(dataset, augment, getattr(separator_config, "stems", None))
        result = train(task, trainer, run_dir, examples)
        separator = _trained_separator(spec, task, run_dir, registry, source)
    else:
        raise ConfigError(f"{source}: unknown row kind {row.kind!r}")
    checkpoint = resolve_checkpoint(run_dir)
    state = read_json(checkpoint, "state")
    training = {
        "steps": result.step,
        "minutes": state.get("train_seconds", 0.0) / 60,
        "checkpoint": str(checkpoint),
        "budget": trainer.model_dump(include={"steps", "stop_at_step", "max_minutes", "max_cpu_seconds"}, exclude_none=True),
        "metrics": result.metrics,
        **state_compute(state),
    }
    return RowOutcome(separator, training)


def _task_class(path: str, source: str) -> type[TrainingTask]:
    module_name, _, class_name = path.partition(":")
    try:
        cls = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError, ValueError) as err:
        raise ConfigError(f"{source}: cannot import training task {path!r} ({err})") from None
    if not (isinstance(cls, type) and issubclass(cls, TrainingTask)):
        raise ConfigError(f"{source}: {path!r} is not a TrainingTask class")
    return cls


def _trained_separator(spec: ComponentSpec, task: TrainingTask, run_dir: Path, registry: ComponentRegistry, source: str) -> Separator:
    """The registered separator loading the task's trained module from its latest checkpoint."""
    modules = list(task.modules())
    if len(modules) != 1:
        raise ConfigError(f"{source}: training task has modules {modules}; a baseline separator loads exactly one")
    weights = resolve_checkpoint(run_dir) / f"{modules[0]}.safetensors"
    return registry.build("separator", {"name": spec.name, "params": {**spec.params, "checkpoint": str(weights)}}, source=source)


def evaluate_row(separator: Separator, row: Row, test: StemDataset, metrics: list[BuiltMetric]) -> Evaluation:
    """Evaluate on the first ``songs`` test songs with the row's seeds and mismatched offset."""
    songs: Iterable = select_songs(test, row.config["songs"])
    total = len(test) if row.config["songs"] is None else min(row.config["songs"], len(test))
    return evaluate(
        separator,
        songs,
        metrics,
        seeds=row.config["seeds"],
        label=row.name,
        total=total,
        mismatched_offset=mismatched_offset(row.config),
    )


def mismatched_offset(config: dict[str, Any]) -> int:
    """A row config's mismatched offset: 1 when it has none (the default, and every config stored
    before the field existed)."""
    return int(config.get("mismatched_offset", 1))
