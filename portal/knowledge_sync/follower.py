"""The node's follower: a thread that pulls what other nodes pushed, as soon as they say so.

Every server process starts one, but only one per node works at a time: the one holding
an `flock` on a file in the clone's `.git` folder (the kernel releases it when its process
dies, and another takes over within `TAKE_OVER_SECONDS`). It listens for the other nodes'
notices and catches up on each; when a notice is missed (a restart, the database away)
it catches up every `poll` seconds anyway, and every `RETRY_SECONDS` while saves of this
node wait for an unreachable remote. The index it updates is the node's one folder, so
every worker process sees the new generation within INDEX_REFRESH_SECONDS.
"""

from __future__ import annotations

import errno
import fcntl
import logging
import os
import threading

import psycopg
from flask import Flask
from sqlalchemy.exc import SQLAlchemyError

from ..authoring import store
from ..authoring.lock import FolderBusy
from ..authoring.lock import editor_lock
from ..extensions import db
from .git import GitError
from .notices import Listener
from .notices import libpq_address
from .shared import SharedFolder

log = logging.getLogger(__name__)

LOCK_FILE = "line0-follower.lock"
TAKE_OVER_SECONDS = 3.0
RETRY_SECONDS = 5.0


class Follower(threading.Thread):
    """Keeps one node's clone and index up to date with the remote (see the module)."""

    def __init__(self, app: Flask, folder: SharedFolder, poll: float) -> None:
        super().__init__(name="line0-follower", daemon=True)
        self.app = app
        self.folder = folder
        self.poll = poll
        self.stopping = threading.Event()
        #: Set after each catch-up (tests and the benchmark wait on it).
        self.rounds = 0
        self._lock_fd: int | None = None

    def stop(self) -> None:
        self.stopping.set()

    def run(self) -> None:
        while not self.stopping.is_set():
            if not self._lead():
                self.stopping.wait(TAKE_OVER_SECONDS)
                continue
            try:
                self._follow()
            except Exception:  # the thread must outlive any one failure
                log.exception("the articles follower failed; starting over")
                self.stopping.wait(RETRY_SECONDS)
        self._resign()

    def _lead(self) -> bool:
        """Whether this process is (now) the node's follower."""
        if self._lock_fd is not None:
            return True
        path = self.folder.root / ".git" / LOCK_FILE
        fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as error:
            os.close(fd)
            if error.errno not in (errno.EAGAIN, errno.EACCES):
                raise
            return False
        self._lock_fd = fd
        return True

    def _resign(self) -> None:
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def _follow(self) -> None:
        """Listen (on PostgreSQL), catch up, then catch up again on each notice or round."""
        with self.app.app_context():
            address = libpq_address(db.engine)
        listener = _listen(address)
        try:
            self.catch_up()
            while not self.stopping.is_set():
                wait = RETRY_SECONDS if self.folder.waiting() else self.poll
                if listener is None:
                    self.stopping.wait(wait if address is None else min(wait, RETRY_SECONDS))
                    if address is not None:
                        listener = _listen(address)
                else:
                    try:
                        heard = list(listener.wait(wait))
                    except psycopg.Error as error:
                        log.warning("lost the notices connection: %s", error)
                        listener.close()
                        listener = None
                        heard = []
                    if heard and all(self.folder.git.contains(sha) for sha in heard):
                        continue  # our own push, or one pulled already
                self.catch_up()
        finally:
            if listener is not None:
                listener.close()

    def catch_up(self) -> None:
        """One round: pending saves finished, the remote's commits taken in, ours sent."""
        with self.app.app_context():
            index = self.app.extensions["search_index"]
            try:
                with editor_lock(self.folder.root), self.folder.publishing(index):
                    store.recover_locked(index)
            except (GitError, FolderBusy, SQLAlchemyError, OSError) as error:
                db.session.rollback()
                log.warning("could not catch up with the articles remote: %s", error)
            finally:
                db.session.remove()
        self.rounds += 1


def _listen(address: str | None) -> Listener | None:
    if address is None:
        return None
    try:
        return Listener(address)
    except psycopg.Error as error:
        log.warning("cannot listen for other nodes' publishes (pulling every round "
                    "instead): %s", error)
        return None

