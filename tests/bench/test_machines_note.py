"""The grid report says where each row's times were measured, and warns when rows of one report
come from different machines or thread counts (a resumed grid)."""

from tokensep_core.bench.report import cost_table, machines_note
from tokensep_core.bench.summary import GridSummary, RowSummary

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
