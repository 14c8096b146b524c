"""Measuring the cost of a block of work: wall time, CPU time and peak resident memory of this
process."""

from __future__ import annotations

import re
import threading
import time
from pathlib import Path
from types import TracebackType

import psutil
import torch

_STATUS = Path("/proc/self/status")
_CLEAR_REFS = Path("/proc/self/clear_refs")


def _hwm_mib() -> float:
    """Linux's peak resident set size (VmHWM) of this process, in MiB."""
    match = re.search(r"VmHWM:\s+(\d+)\s+kB", _STATUS.read_text())
    if match is None:
        raise OSError("no VmHWM in /proc/self/status")
    return int(match.group(1)) / 1024


def _reset_hwm() -> bool:
    """Reset VmHWM to the current RSS (Linux >= 4.0); False where that is not possible."""
    try:
        _CLEAR_REFS.write_text("5")
        _hwm_mib()
    except OSError:
        return False
    return True


class Usage:
    """``with Usage() as usage:`` -> ``usage.seconds`` (wall), ``usage.cpu_seconds`` (CPU time of
    every thread of this process), ``usage.peak_rss_mib`` (peak resident memory of the whole
    process during the block) and ``usage.peak_cuda_mib`` (peak CUDA memory allocated by torch,
    None without CUDA).

    On Linux the kernel's own peak counter is reset and read (exact); elsewhere a thread
    samples the resident size every 10 ms.
    """

    def __init__(self) -> None:
        self.seconds = 0.0
        self.cpu_seconds = 0.0
        self.peak_rss_mib = 0.0
        self.peak_cuda_mib: float | None = None
        self._sampler: threading.Thread | None = None
        self._stop = threading.Event()

    def __enter__(self) -> Usage:
        if torch.cuda.is_available():
            torch.cuda.reset_peak_memory_stats()
        if not _reset_hwm():
            self._sampler = threading.Thread(target=self._sample, daemon=True)
            self._sampler.start()
        self._started = time.perf_counter()
        self._cpu_started = time.process_time()
        return self

    def _sample(self) -> None:
        process = psutil.Process()
        while True:
            self.peak_rss_mib = max(self.peak_rss_mib, process.memory_info().rss / 2**20)
            if self._stop.wait(0.01):
                return

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None) -> None:
        self.seconds = time.perf_counter() - self._started
        self.cpu_seconds = time.process_time() - self._cpu_started
        if self._sampler is not None:
            self._stop.set()
            self._sampler.join()
        else:
            self.peak_rss_mib = _hwm_mib()
        if torch.cuda.is_available():
            self.peak_cuda_mib = torch.cuda.max_memory_allocated() / 2**20
