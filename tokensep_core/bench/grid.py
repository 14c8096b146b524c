"""The grid file of ``tokensep bench``: a base separator-training config, axes of named
overrides (their cartesian product gives the generative rows), baselines, data, budget,
metrics and seeds. See docs/benchmarks.md."""

from __future__ import annotations

import copy
import itertools
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from tokensep_core.config import ComponentSpec, load_config
from tokensep_core.errors import ConfigError
from tokensep_core.evaluation.plan import MetricSpec, named_specs

_ROW_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.=+-]*$")
CODEC_REFERENCE = re.compile(r"\{codec:([A-Za-z0-9_.-]+)\}")
"""``{codec:NAME}`` in a row's config: the checkpoint directory of the grid's codec NAME."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Override(_Strict):
    """One named value of an axis: ``set`` maps dotted paths of the training config to values
    (``model.encoder``, ``inference.sampling.temperature``, ``trainer.lr``)."""

    name: str
    set: dict[str, Any] = Field(default_factory=dict)


class Budget(_Strict):
    """Training budget of every trained row: optimizer steps, minutes of training time and/or
    CPU seconds of training compute (a row using grid codecs gets its CPU seconds less theirs:
    :func:`tokensep_core.bench.compute.charge_codecs`).

    ``steps`` also sets the learning-rate schedule's length; without it, the base config's
    ``trainer.steps`` does."""

    steps: int | None = Field(None, ge=1)
    minutes: float | None = Field(None, gt=0, description="trainer.max_minutes: wall-clock training time (the budget on a GPU)")
    cpu_seconds: float | None = Field(
        None, gt=0, description="trainer.max_cpu_seconds: CPU time of the training steps, every thread counted (CPU training only)"
    )

    @model_validator(mode="after")
    def _something(self) -> Budget:
        if self.steps is None and self.minutes is None and self.cpu_seconds is None:
            raise ValueError("give steps, minutes, cpu_seconds or several of them")
        return self

    def trainer_overrides(self) -> dict[str, Any]:
        out: dict[str, Any] = {}
        if self.steps is not None:
            out["steps"] = self.steps
        if self.minutes is not None:
            out["max_minutes"] = self.minutes
        if self.cpu_seconds is not None:
            out["max_cpu_seconds"] = self.cpu_seconds
        return out


class Baseline(_Strict):
    """A reference row: a registered separator (trained first when ``train``), or a generative
    separator checkpoint to load instead of training."""

    name: str
    separator: ComponentSpec | None = None
    train: bool = Field(False, description="train the separator's network with the grid's trainer, data and budget")
    task: str | None = Field(None, description="'module:Class' of its TrainingTask; default: the one a plugin registered for the separator")
    checkpoint: Path | None = Field(None, description="a generative separator checkpoint (step_… or run directory)")
    budget: Budget | None = Field(
        None, description="a trained baseline's own budget instead of the grid's (e.g. the compute of the row it is compared with)"
    )

    @model_validator(mode="after")
    def _one_source(self) -> Baseline:
        if (self.separator is None) == (self.checkpoint is None):
            raise ValueError(f"baseline {self.name!r}: give either 'separator' or 'checkpoint'")
        if self.checkpoint is not None and (self.train or self.task):
            raise ValueError(f"baseline {self.name!r}: a checkpoint is loaded, not trained")
        if self.budget is not None and not self.train:
            raise ValueError(f"baseline {self.name!r}: 'budget' applies only to a trained baseline ('train: true')")
        return self


class Comparison(_Strict):
    """A declared comparison of two rows (generative rows or baselines): the report gives the
    paired difference ``a`` against ``b`` per metric and stem, positive when ``a`` is better."""

    a: str
    b: str

    @model_validator(mode="after")
    def _two_rows(self) -> Comparison:
        if self.a == self.b:
            raise ValueError(f"comparison {self.a!r} against itself: name two different rows")
        return self


class SynthData(_Strict):
    """Synthetic songs written to ``OUT/data`` (MUSDB layout) before anything runs."""

    songs: int = Field(10, ge=2)
    seconds: float = Field(4.0, gt=0)
    sample_rate: int = Field(16000, gt=0)
    seed: int = 0
    renderer: str = "procedural"
    test_fraction: float = Field(0.2, gt=0, lt=1)


class DataConfig(_Strict):
    """Training and test songs: two dataset specs (only ``test`` when nothing trains), or a ``synth`` block."""

    train: ComponentSpec | None = None
    test: ComponentSpec | None = None
    synth: SynthData | None = None

    @model_validator(mode="after")
    def _one_source(self) -> DataConfig:
        if self.synth is None and self.test is None:
            raise ValueError("give 'train' and 'test' dataset specs ('test' alone when no row trains), or a 'synth' block")
        if self.synth is not None and (self.train is not None or self.test is not None):
            raise ValueError("'synth' replaces 'train' and 'test': give one or the other")
        return self


class GridConfig(_Strict):
    """A whole ``tokensep bench`` grid file."""

    codecs: dict[str, dict[str, Any]] = Field(
        default_factory=dict,
        description="codecs, trained when the first run using one must run, by name: `tokensep train codec` configs (data defaults to the grid's training data; "
        "a `data` without `name` only overrides its params, e.g. {params: {channels: 1}}); "
        "rows refer to a trained one's checkpoint directory as the string {codec:NAME}",
    )
    codec_budget: Budget | None = Field(None, description="budget of every codec; None: each codec config's own trainer.steps")
    base: dict[str, Any] = Field(
        default_factory=dict, description="separator training config: model, augment, loss, inference, trainer (no data)"
    )
    axes: dict[str, list[Override]] = Field(default_factory=dict)
    baselines: list[Baseline] = Field(default_factory=list)
    data: DataConfig
    budget: Budget | None = Field(None, description="needed when a row or codec trains")
    metrics: list[MetricSpec] | None = Field(None, description="None: the default plan (docs/metrics.md)")
    nisqa_weights: Path | None = None
    seeds: list[int] = Field(
        default_factory=lambda: [0],
        min_length=1,
        description="each trained row trains once per seed (and samples with it); a sampling separator samples with each",
    )
    comparisons: list[Comparison] = Field(default_factory=list, description="pairs of rows to compare song by song and seed by seed")
    songs: int | None = Field(None, ge=1, description="evaluate only the first N test songs")
    mismatched_offset: int = Field(
        1,
        ge=1,
        description="songs between a song and the one whose references its estimates are scored against in the mismatched "
        "control (song i against song i+k mod n); set it to the number of consecutive test songs that share a composition",
    )

    @field_validator("metrics", mode="before")
    @classmethod
    def _bare_names(cls, value: Any) -> Any:
        return named_specs(value)

    @field_validator("base")
    @classmethod
    def _no_data(cls, base: dict[str, Any]) -> dict[str, Any]:
        if "data" in base:
            raise ValueError("the grid's 'data' section chooses the data; remove base.data")
        return base

    @field_validator("axes")
    @classmethod
    def _non_empty(cls, axes: dict[str, list[Override]]) -> dict[str, list[Override]]:
        for axis, options in axes.items():
            if not options:
                raise ValueError(f"axis {axis!r} has no options")
            names = [o.name for o in options]
            if len(set(names)) != len(names):
                raise ValueError(f"axis {axis!r} repeats an option name")
        return axes

    @field_validator("seeds")
    @classmethod
    def _distinct_seeds(cls, seeds: list[int]) -> list[int]:
        if len(set(seeds)) != len(seeds):
            raise ValueError("seeds repeats a seed")
        return seeds

    @model_validator(mode="after")
    def _training_has_data_and_budget(self) -> GridConfig:
        needs_grid_budget = [
            *(["generative rows"] if self.axes or "model" in self.base else []),
            *(f"baseline {b.name!r}" for b in self.baselines if b.train and b.budget is None),
            *(["codecs"] if self.codecs else []),
        ]
        trains = needs_grid_budget + [f"baseline {b.name!r}" for b in self.baselines if b.train and b.budget is not None]
        if trains and self.data.synth is None and self.data.train is None:
            raise ValueError(f"data: {trains[0]} train; give a 'train' dataset spec")
        if needs_grid_budget and self.budget is None:
            raise ValueError(f"budget: {needs_grid_budget[0]} train; give steps, minutes and/or cpu_seconds")
        return self


def load_grid(path: str | Path) -> GridConfig:
    """Read and validate a grid file; every ``{codec:NAME}`` must name one of its codecs and every
    comparison two of its rows."""
    grid = load_config(GridConfig, path)
    for name in CODEC_REFERENCE.findall(grid.model_dump_json()):
        if name not in grid.codecs:
            raise ConfigError(f"{path}: {{codec:{name}}} refers to no codec of the grid's 'codecs' ({', '.join(grid.codecs) or 'none'})")
    for name in grid.codecs:
        if not re.fullmatch(r"[A-Za-z0-9_.-]+", name):
            raise ConfigError(f"{path}: codec name {name!r} must be letters, digits and _ . -")
    if grid.comparisons:
        rows = row_names(grid, str(path))
        for i, comparison in enumerate(grid.comparisons):
            for name in (comparison.a, comparison.b):
                if name not in rows:
                    raise ConfigError(f"{path}: comparisons[{i}] names {name!r}, which is not a row of the grid (rows: {', '.join(rows)})")
    return grid


def set_path(config: dict[str, Any], dotted: str, value: Any, source: str) -> None:
    """``config[a][b][c] = value`` for ``dotted == "a.b.c"``, creating mappings on the way."""
    keys = dotted.split(".")
    node = config
    for key in keys[:-1]:
        child = node.setdefault(key, {})
        if not isinstance(child, dict):
            raise ConfigError(f"{source}: cannot set {dotted!r}: {key!r} is not a mapping")
        node = child
    node[keys[-1]] = copy.deepcopy(value)


def generative_rows(grid: GridConfig, source: str) -> list[tuple[str, dict[str, Any]]]:
    """(row name, training config before data and budget) for every combination of the axes;
    without axes, one row ``base`` if the base config has a ``model``, else none (baselines only)."""
    if not grid.axes:
        return [("base", copy.deepcopy(grid.base))] if "model" in grid.base else []
    rows = []
    for combination in itertools.product(*grid.axes.values()):
        config = copy.deepcopy(grid.base)
        for axis, option in zip(grid.axes, combination):
            for dotted, value in option.set.items():
                set_path(config, dotted, value, f"{source}: axes.{axis}[{option.name}]")
        rows.append(("+".join(option.name for option in combination), config))
    return rows


def row_names(grid: GridConfig, source: str) -> list[str]:
    """Every row's name, checked to be a distinct, folder-safe name."""
    names = [name for name, _ in generative_rows(grid, source)] + [b.name for b in grid.baselines]
    for name in names:
        if not _ROW_NAME.match(name):
            raise ConfigError(f"{source}: row name {name!r} must be letters, digits and _ . = + - (starting with a letter or digit)")
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ConfigError(f"{source}: two rows are named {duplicates[0]!r}")
    return names
