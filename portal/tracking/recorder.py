"""Writing events off the request path: a queue per process and one writer thread.

A page only puts a record on the queue (microseconds). The writer stores records in
batches; when the database is slow the queue absorbs it, when the database fails the
batch is logged and dropped. Either way no page waits for, or breaks on, tracking.
"""

from __future__ import annotations

import atexit
import datetime as dt
import logging
import queue
import threading
import time
import weakref
from enum import Enum
from typing import Final

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


class _Signal(Enum):
    """What the writer thread can be told through its queue besides events."""

    STOP = "stop"


_STOP: Final = _Signal.STOP


class Recorder:
    """The process's event queue and its writer thread (started on the first event)."""

    def __init__(self, app: Flask, capacity: int, gather_seconds: float,
                 close_seconds: float = 0) -> None:
        self.app = app
        #: How often the writer judges the visits that ended (0: never; `portal report
        #: rollup` or another process does it).
        self.close_seconds = close_seconds
        self._next_close = time.monotonic() + close_seconds
        #: How long the writer collects events before it writes them: fewer, larger
        #: transactions, and the pages it shares the process with are rarely interrupted.
        self.gather_seconds = gather_seconds
        self.memory = Memory()
        self._hurry = threading.Event()
        self.queue: queue.Queue[Event | _Signal] = queue.Queue(maxsize=capacity)
        self.dropped = 0
        self.failed = 0
        #: Events stored since the process started.
        self.stored = 0
        self._pending = 0
        self._idle = threading.Condition()
        self._thread: threading.Thread | None = None
        self._start_lock = threading.Lock()

    def put(self, event: Event) -> bool:
        """Queue an event; False when the queue is full (the event is dropped and counted)."""
        self._ensure_thread()
        with self._idle:
            self._pending += 1
        try:
            self.queue.put_nowait(event)
        except queue.Full:
            with self._idle:
                self._pending -= 1
                self._idle.notify_all()
            self.dropped += 1
            if self.dropped in (1, 10, 100) or self.dropped % 1000 == 0:
                log.warning("tracking queue full: %d events dropped so far", self.dropped)
            return False
        return True

    def flush(self, timeout: float = 5.0) -> bool:
        """Wait until every queued event is written (or given up); False on timeout."""
        deadline = time.monotonic() + timeout
        self._hurry.set()
        with self._idle:
            while self._pending:
                left = deadline - time.monotonic()
                if left <= 0:
                    return False
                self._idle.wait(left)
        return True

    def close(self, timeout: float = 5.0) -> None:
        """Write what is queued, then stop the writer (a later event starts a new one)."""
        self.flush(timeout)
        with self._start_lock:
            thread, self._thread = self._thread, None
        if thread is not None and thread.is_alive():
            self.queue.put(_STOP)
            thread.join(timeout)

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
            verdicts.close_visits(dt.datetime.now(dt.UTC), calendar().zone)
        except Exception:  # another process's turn, a locked database: next time
            self._rollback()
            log.exception("could not judge the visits that ended")

    def _gather(self) -> list[Event] | None:
        """The next batch: what arrives within `gather_seconds` of the first event (less
        when someone is waiting in `flush`); empty when none came in `close_seconds`; None
        when told to stop."""
        try:
            first = self.queue.get(timeout=self.close_seconds or None)
        except queue.Empty:
            return []  # time to close visits
        if first is _STOP:
            return None
        batch = [first]
        deadline = time.monotonic() + self.gather_seconds
        while len(batch) < BATCH:
            left = deadline - time.monotonic()
            if left <= 0 or self._hurry.is_set():
                try:
                    event = self.queue.get_nowait()
                except queue.Empty:
                    break
            else:
                try:
                    event = self.queue.get(timeout=min(left, 0.05))
                except queue.Empty:
                    continue
            if event is _STOP:
                self.queue.put(_STOP)  # stop after writing this batch
                break
            batch.append(event)
        if self.queue.empty():
            self._hurry.clear()
        return batch

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
                self.memory.after_commit()
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
