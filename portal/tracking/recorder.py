"""Writing events off the request path: a queue per process and one writer thread.

A page only puts a record on the queue (microseconds). The writer stores records in
batches; when the database is slow the queue absorbs it, when the database fails the
batch is logged and dropped. Either way no page waits for, or breaks on, tracking.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import threading
import time
import weakref
from collections import deque

from flask import Flask
from sqlalchemy.exc import OperationalError

from ..extensions import db
from ..service_hours import calendar
from . import verdicts
from .events import Event
from .store import Memory
from .store import store
from .store import touch_sessions

log = logging.getLogger(__name__)
BATCH = 200
#: Visits the writer judges at most between two batches: a backlog of ended visits is
#: worked off in rounds of this size (well under a second each), never while the queue of
#: new events fills up.
CLOSE_PER_ROUND = 2000
#: Pauses (seconds) before each new try of a batch the database was too busy to take, each
#: after the database's own wait (SQLite's busy timeout, PostgreSQL's lock wait).
BUSY_PAUSES = (0.25, 0.5, 1.0, 2.0, 4.0)
#: PostgreSQL's answers for "another transaction holds it": lock not available, deadlock,
#: serialization failure.
_BUSY_STATES = frozenset({"55P03", "40P01", "40001"})


def _busy(error: OperationalError) -> bool:
    """Whether the database is there but another writer holds what the batch needs."""
    return ("database is locked" in str(error.orig)
            or getattr(error.orig, "sqlstate", None) in _BUSY_STATES)


class Recorder:
    """The process's event queue and its writer thread (started on the first event).

    The queue is a plain deque that the writer empties every `gather_seconds`: a page's
    `put` wakes no thread. (With a `queue.Queue`, each event woke the writer, and handing
    the interpreter lock to it and back cost the page more than its search did.)"""

    def __init__(self, app: Flask, capacity: int, gather_seconds: float,
                 close_seconds: float = 0) -> None:
        self.app = app
        #: How often the writer judges the visits that ended (0: never; `portal report
        #: rollup` or another process does it).
        self.close_seconds = close_seconds
        self._next_close = time.monotonic() + close_seconds
        #: How long the writer lets events collect before it writes them: fewer, larger
        #: transactions, and the pages it shares the process with are rarely interrupted.
        self.gather_seconds = gather_seconds
        self.capacity = capacity
        self.memory = Memory()
        #: Set to have the writer write now (someone waits in `flush`, or it should stop).
        self._hurry = threading.Event()
        self._stopping = False
        self._events: deque[Event] = deque()
        self.dropped = 0
        self.failed = 0
        #: Events stored since the process started.
        self.stored = 0
        #: Events queued or being written.
        self._pending = 0
        self._idle = threading.Condition()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def put(self, event: Event) -> bool:
        """Queue an event; False when the queue is full (the event is dropped and counted)."""
        self._ensure_thread()
        with self._idle:
            if len(self._events) >= self.capacity:
                self.dropped += 1
                full = True
            else:
                self._pending += 1
                self._events.append(event)
                full = False
        if full and (self.dropped in (1, 10, 100) or self.dropped % 1000 == 0):
            log.warning("tracking queue full: %d events dropped so far", self.dropped)
        return not full

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued event is written (or given up); False on timeout."""
        deadline = time.monotonic() + timeout
        with self._idle:
            while self._pending:
                self._hurry.set()
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(min(left, 0.1))
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued, then stop the writer (a later event starts a new one)."""
        self.flush(timeout)
        with self._start_lock:
            thread, self._thread = self._thread, None
            if thread is not None and thread.is_alive():
                self._stopping = True
                self._hurry.set()
        if thread is not None:
            thread.join(timeout)
        self._stopping = False

    def _ensure_thread(self) -> None:
        if self._thread is not None and self._thread.is_alive():
            return
        with self._start_lock:
            if self._thread is None or not self._thread.is_alive():
                self._thread = threading.Thread(target=self._run, name="tracking-writer",
                                                daemon=True)
                self._thread.start()
                _running.add(self)

    def _run(self) -> None:
        # One app context for the thread's life: one database session, whose objects stay
        # usable after each commit (the writer's memory holds some of them).
        with self.app.app_context():
            db.session().expire_on_commit = False
            while True:
                batch = self._gather()
                if batch is None:
                    return
                try:
                    if batch:
                        self._write(batch)
                except Exception:  # the writer must survive anything
                    log.exception("tracking writer failed on %d events", len(batch))
                finally:
                    with self._idle:
                        self._pending -= len(batch)
                        self._idle.notify_all()
                self._close_visits()

    def _close_visits(self) -> None:
        """Every `close_seconds`, judge the visits that ended (see `verdicts`)."""
        if not self.close_seconds or time.monotonic() < self._next_close:
            return
        self._next_close = time.monotonic() + self.close_seconds
        try:
            closed = verdicts.close_visits(dt.datetime.now(dt.UTC), calendar().zone,
                                           limit=CLOSE_PER_ROUND)
            if closed >= CLOSE_PER_ROUND:
                # A backlog (after an upgrade that rebuilds the rollups, or a long pause):
                # go on at once, but only after the events that came meanwhile are stored.
                self._next_close = time.monotonic()
        except Exception:  # another process's turn, a locked database: next time
            self._rollback()
            log.exception("could not judge the visits that ended")

    def _gather(self) -> list[Event] | None:
        """The next batch: up to `BATCH` of the events that came in the last
        `gather_seconds` (at once when a full batch waits or someone waits in `flush`;
        empty when none came); None when told to stop and nothing is left."""
        if len(self._events) < BATCH:
            self._hurry.wait(self.gather_seconds)
        with self._idle:
            if not self._events and self._stopping:
                return None
            if self._hurry.is_set() and len(self._events) <= BATCH:
                self._hurry.clear()
            count = min(len(self._events), BATCH)
            return [self._events.popleft() for _ in range(count)]

    def _write(self, batch: list[Event]) -> None:
        """Store the batch in one transaction; if one event is at fault, event by event.
        While another writer holds the database (a long job, the other worker's batch), the
        batch waits and tries again: a busy database is no reason to lose a visit."""
        for pause in (*BUSY_PAUSES, None):
            try:
                with db.session.no_autoflush:
                    for event in batch:
                        store(event, self.memory)
                touch_sessions(self.memory)
                db.session.commit()
                self.memory.after_commit(max(event.at for event in batch))
                self.stored += len(batch)
                return
            except OperationalError as error:
                self._rollback()
                if pause is not None and _busy(error):
                    log.warning("tracking: the database is busy; %d events wait %.1f s",
                                len(batch), pause)
                    time.sleep(pause)
                    continue
                # The database is down, or busy for too long: nothing in this batch will fit.
                self.failed += len(batch)
                log.exception("database unavailable: %d tracking events dropped", len(batch))
                return
            except Exception:
                self._rollback()
                if len(batch) == 1:
                    self.failed += 1
                    log.exception("could not store a %s event", type(batch[0]).__name__)
                    return
                for event in batch:
                    self._write([event])
                return

    def _rollback(self) -> None:
        db.session.rollback()
        self.memory.forget()


#: Recorders whose writer has run in this process, to be emptied before it exits.
_running: weakref.WeakSet[Recorder] = weakref.WeakSet()


@atexit.register
def _write_before_exit() -> None:
    """A server process that stops (a restart, TERM) first stores what is still queued:
    the writer thread is a daemon and would otherwise die with the events it holds."""
    for recorder in list(_running):
        recorder.close()
        if recorder.dropped or recorder.failed:
            log.warning("tracking: %d events stored, %d dropped (queue full), %d failed",
                        recorder.stored, recorder.dropped, recorder.failed)
