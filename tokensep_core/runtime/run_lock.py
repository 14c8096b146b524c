"""One process per run folder: an advisory lock (``flock``) on ``FOLDER/.lock`` that the kernel
releases when its process ends, however it ends, so a crashed run never leaves a stale lock."""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = ".lock"


@contextmanager
def run_lock(folder: str | Path) -> Iterator[bool]:
    """Hold ``folder``'s lock while the block runs (the folder is made if missing) -> True; False,
    holding nothing, when another process holds it."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    fd = os.open(folder / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)  # closing the descriptor releases the lock
