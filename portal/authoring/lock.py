"""One writer at a time in an articles folder, across threads and server processes.

The editor checks that a file is still the version the expert opened and then replaces
it; both must happen under one lock, or two saves could each pass the check. The lock is
an `flock` on a hidden file in the folder: the kernel drops it when its holder dies, so a
killed process never leaves the folder locked.
"""

from __future__ import annotations

import errno
import fcntl
import os
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

LOCK_FILE = ".line0-editor.lock"
#: How long a save waits for another one to finish before giving up.
WAIT_SECONDS = 30.0


class FolderBusy(RuntimeError):
    """Another save held the articles folder for too long."""


@contextmanager
def editor_lock(root: Path, wait: float = WAIT_SECONDS) -> Iterator[None]:
    """Hold the articles folder's write lock for the duration of the block."""
    root.mkdir(parents=True, exist_ok=True)
    # A descriptor of our own: flock locks belong to the open file, so two threads of one
    # process that each open the file exclude each other too.
    fd = os.open(root / LOCK_FILE, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        deadline = time.monotonic() + wait
        delay = 0.005
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as error:
                if error.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= deadline:
                    raise FolderBusy(f"the articles folder stayed locked for {wait:.0f} s") \
                        from None
                time.sleep(delay)
                delay = min(delay * 2, 0.1)
        yield
    finally:
        os.close(fd)  # closing the descriptor releases the lock
