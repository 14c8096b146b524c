"""The training compute behind a bench row's model: the wall and CPU seconds of the training
steps that led to its checkpoint, as the trainer keeps them in the checkpoint's state (summed over
resumes; steps lost to a killed attempt are not behind the model and are not counted); and the CPU
budget a row has left once the grid codecs it uses are counted."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

from tokensep_core.errors import CheckpointError, ConfigError
from tokensep_core.training.checkpoint import read_json, resolve_checkpoint

ZERO = {"wall_seconds": 0.0, "cpu_seconds": 0.0}


def training_compute(run_dir: Path) -> dict[str, float]:
    """``{wall_seconds, cpu_seconds}`` of the training steps behind ``run_dir``'s newest complete
    checkpoint (``train_seconds``/``train_cpu_seconds`` of its state); zeros when it has none."""
    try:
        state = read_json(resolve_checkpoint(run_dir), "state")
    except CheckpointError:
        return dict(ZERO)
    return state_compute(state)


def state_compute(state: Mapping[str, Any]) -> dict[str, float]:
    """``{wall_seconds, cpu_seconds}`` of a checkpoint's trainer ``state``."""
    return {"wall_seconds": float(state.get("train_seconds", 0.0)), "cpu_seconds": float(state.get("train_cpu_seconds", 0.0))}


def add(*records: Mapping[str, float]) -> dict[str, float]:
    """The sum of ``{wall_seconds, cpu_seconds}`` records."""
    return {key: sum((float(r.get(key, 0.0)) for r in records), 0.0) for key in ZERO}


def charge_codecs(trainer: dict[str, Any], codec_compute: Mapping[str, Mapping[str, float]], source: str) -> dict[str, Any]:
    """A row's trainer section with its CPU budget (``max_cpu_seconds``) less the CPU seconds spent
    training the grid codecs it uses (``codec_compute``: their records); a :class:`ConfigError`
    when they used all of it. Without a CPU budget or codecs the section is returned as it is."""
    budget = trainer.get("max_cpu_seconds")
    if budget is None or not codec_compute:
        return trainer
    used = add(*codec_compute.values())["cpu_seconds"]
    if used >= budget:
        codecs = ", ".join(sorted(codec_compute))
        raise ConfigError(
            f"{source}: training its codec ({codecs}) alone used {used:.1f} CPU s of the {budget:g} CPU s budget; nothing is left to train the row"
        )
    return {**trainer, "max_cpu_seconds": budget - used}
