"""One process per run folder: an advisory lock (``flock``) on ``FOLDER/.lock`` that the kernel
releases when its process ends, however it ends, so a crashed run never leaves a stale lock.

The holder removes the file on leaving (a killed one leaves it, unlocked). A process that opened
the old file meanwhile fails to lock it while it is held, and one that makes a new file afterwards
gets the lock: callers re-check, under the lock, whether the work is already done."""

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
        try:
            yield True
        finally:
            (folder / LOCK_FILE).unlink(missing_ok=True)
    finally:
        os.close(fd)  # closing the descriptor releases the lock


def held_elsewhere(folder: str | Path) -> bool:
    """Whether another process holds ``folder``'s lock now, read from Linux's ``/proc/locks``
    without taking it (taking it to test it could make the holder's own attempt fail); False
    where that cannot be told."""
    try:
        lock = (Path(folder) / LOCK_FILE).stat()
        table = Path("/proc/locks").read_text()
    except OSError:
        return False
    key = f"{os.major(lock.st_dev):02x}:{os.minor(lock.st_dev):02x}:{lock.st_ino}"
    for line in table.splitlines():
        fields = line.split()
        if "FLOCK" in fields and "->" not in fields and key in fields:
            holder = fields[fields.index(key) - 1]
            if holder != str(os.getpid()):
                return True
    return False
