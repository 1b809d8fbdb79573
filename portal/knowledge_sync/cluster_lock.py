"""One publisher at a time across every node: a PostgreSQL advisory lock.

The editor's `flock` keeps the saves of one node apart; nodes have a folder each, so it
cannot see the others. The nodes share the database, and a session-level advisory lock
there does across nodes what the flock does within one: the check "is the file still the
version the expert opened?" (made right after pulling the remote) and the push of the new
commit happen with no other node in between. The lock belongs to a database connection,
so a node that dies releases it with its connection. On SQLite there is one machine, and
the flock is enough.
"""

from __future__ import annotations

import time
import zlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Engine
from sqlalchemy import text

from ..authoring.lock import FolderBusy

#: The lock's number: any fixed 64-bit key that no other part of the database uses.
KEY = zlib.crc32(b"line0:articles-remote")
WAIT_SECONDS = 30.0


@contextmanager
def publishing_lock(engine: Engine, wait: float = WAIT_SECONDS) -> Iterator[None]:
    """Hold the cluster-wide publish lock for the block (nothing on other databases)."""
    if engine.dialect.name != "postgresql":
        yield
        return
    with engine.connect() as connection:
        deadline = time.monotonic() + wait
        delay = 0.005
        while not connection.execute(text("SELECT pg_try_advisory_lock(:key)"),
                                     {"key": KEY}).scalar():
            connection.rollback()
            if time.monotonic() >= deadline:
                raise FolderBusy(f"another node kept publishing for {wait:.0f} s")
            time.sleep(delay)
            delay = min(delay * 2, 0.05)
        connection.commit()
        try:
            yield
        finally:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": KEY})
            connection.commit()
