"""The training compute a bench row used: wall seconds and CPU seconds of this process (every
thread; data-loader worker processes not counted), summed over the attempts of a resumed training
in a small JSON record beside its run directory; and the CPU budget a row has left once the grid
codecs it uses are counted."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from tokensep_core.config import read_config_file
from tokensep_core.errors import ConfigError, TokensepError
from tokensep_core.evaluation.tables import write_json

COMPUTE = "compute.json"
ZERO = {"wall_seconds": 0.0, "cpu_seconds": 0.0}


def read_compute(record: Path) -> dict[str, float]:
    """``{wall_seconds, cpu_seconds}`` stored in ``record``; zeros when there is none."""
    try:
        data = read_config_file(record)
    except TokensepError:
        return dict(ZERO)
    return {key: float(data.get(key) or 0.0) for key in ZERO}


@contextmanager
def measured(record: Path) -> Iterator[None]:
    """Add the block's wall time and process CPU time (``time.process_time``) to ``record``,
    also when the block raises (a killed process adds nothing)."""
    wall, cpu = time.perf_counter(), time.process_time()
    try:
        yield
    finally:
        spent = {"wall_seconds": time.perf_counter() - wall, "cpu_seconds": time.process_time() - cpu}
        write_json(record, add(read_compute(record), spent))


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
