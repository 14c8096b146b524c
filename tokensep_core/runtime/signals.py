"""Ctrl-C and SIGTERM held back while a short block runs, then delivered.

A block that creates a file and records it (a writer built and appended to the list its caller
aborts on failure) must not be cut between the two: an interrupt there would leave a file no one
knows to delete. Inside :func:`interrupts_held` the signals are recorded; on leaving the block the
first one is handed to the handler that was installed before (for SIGINT, Python's
``KeyboardInterrupt``; for SIGTERM under the CLI, ``Terminated``), so the caller's clean-up runs
with every file recorded.
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

HELD = (signal.SIGINT, signal.SIGTERM)


@contextmanager
def interrupts_held() -> Iterator[None]:
    """Hold SIGINT and SIGTERM while the block runs; deliver the first one after it (main thread
    only: elsewhere Python cannot install handlers, and signals reach the main thread anyway)."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pending: list[tuple[int, FrameType | None]] = []

    def hold(signum: int, frame: FrameType | None) -> None:
        pending.append((signum, frame))

    previous = {signum: signal.signal(signum, hold) for signum in HELD}
    try:
        yield
    finally:
        for signum, handler in previous.items():
            signal.signal(signum, handler)
        if pending:
            signum, frame = pending[0]
            handler = previous[signum]
            if callable(handler):
                handler(signum, frame)
            elif handler != signal.SIG_IGN:  # the default action (or a handler not set from Python)
                os.kill(os.getpid(), signum)
