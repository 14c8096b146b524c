"""The training compute a bench row used: wall seconds and CPU seconds of this process (every
thread; data-loader worker processes not counted), summed over the attempts of a resumed training
in a small JSON record beside its run directory."""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

from tokensep_core.config import read_config_file
from tokensep_core.errors import TokensepError
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
