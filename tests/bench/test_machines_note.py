"""The grid report says where each row's times were measured, warns when rows of one report come
from different machines or thread counts (a resumed grid), and shows each row's CPU share (a
separation that waited for a core has a real-time factor that overstates)."""

import math
import time

from tokensep_core.bench.report import cost_table, machines_note
from tokensep_core.bench.summary import GridSummary, RowSummary
from tokensep_core.evaluation.evaluate import SongResult, separation_cpu_share
from tokensep_core.evaluation.resources import Usage

MACHINE = {
    "cpu": "Test CPU",
    "logical_cores": 2,
    "amx_bf16": False,
    "avx512": True,
    "torch": "2.x",
    "threads": 2,
    "device": "cpu",
    "gpu": None,
}


def _summary(*threads: int | None) -> GridSummary:
    rows = [
        RowSummary(f"row{i}", "generative", "ok", None, {}, machine={**MACHINE, "threads": t} if t else {}) for i, t in enumerate(threads)
    ]
    return GridSummary(rows, [], [], {})


def test_one_machine_is_one_line_and_threads_are_a_column() -> None:
    summary = _summary(2, 2, None)
    assert (
        machines_note(summary).strip()
        == "Machine: Test CPU, 2 logical cores (AMX-bf16: False, AVX-512: True), torch 2.x, 2 threads, device cpu."
    )
    header, rows = cost_table(summary)
    threads = header.index("threads")
    assert [row[threads] for row in rows] == ["2", "2", "–"]


def test_rows_from_different_thread_counts_are_listed_apart() -> None:
    note = machines_note(_summary(2, 1, 2))
    assert note.startswith("\nMachines (RTFs compare only within one):")
    assert "1 thread, device cpu: row1\n" in note and "2 threads, device cpu: row0, row2\n" in note


def test_a_separation_that_waited_for_the_cpu_shows_a_low_cpu_share() -> None:
    with Usage() as usage:
        time.sleep(0.3)  # wall time passes, this process computes nothing: as if another held the core
    assert usage.seconds >= 0.3 and usage.cpu_seconds < 0.1 * usage.seconds
    waited = SongResult("s", 0, 1.0, usage.seconds, 1.0, None, {}, usage.cpu_seconds)
    busy = SongResult("s", 1, 1.0, 2.0, 1.0, None, {}, 3.8)  # 2 threads busy 95 % of the time
    assert separation_cpu_share([waited], MACHINE) < 0.1
    assert separation_cpu_share([busy], MACHINE) == 0.95
    assert math.isnan(separation_cpu_share([busy, SongResult("s", 2, 1.0, 1.0, 1.0, None, {})], MACHINE))  # one not kept
    row = RowSummary("row", "generative", "ok", None, {}, machine=MACHINE, cpu_share=0.5)
    header, rows = cost_table(GridSummary([row, RowSummary("old", "generative", "ok", None, {})], [], [], {}))
    assert [r[header.index("CPU share")] for r in rows] == ["0.50", "–"]  # '–': a result stored without CPU time
