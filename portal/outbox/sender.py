"""The background sender: one daemon thread per app and process that runs a delivery when
kicked, and again every poll interval for the retries that come due."""

from __future__ import annotations

import logging
import threading
import weakref
from collections.abc import Callable

from flask import Flask

log = logging.getLogger(__name__)

#: The seconds between runs when a run could not tell (it failed before it knew).
DEFAULT_POLL = 10.0


class Sender:
    """Runs `deliver` in the app's context when kicked and every time the seconds it returned
    have passed.

    It holds the app weakly, so an app that is gone takes its thread with it; `deliver` must
    not hold the app either."""

    def __init__(self, app: Flask, deliver: Callable[[], float]) -> None:
        self._app = weakref.ref(app)
        self._deliver_once = deliver
        self._lock = threading.Lock()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None
        self._stopping = threading.Event()

    def kick(self) -> None:
        """Wake the thread, starting it when it does not run."""
        with self._lock:
            self._wake.set()
            if self._thread is None or not self._thread.is_alive():
                # Each thread has its own stop flag, so a stopped one never comes back to life.
                self._stopping = threading.Event()
                self._thread = threading.Thread(target=self._run, args=(self._stopping,),
                                                name="outbox-sender", daemon=True)
                self._thread.start()

    def stop(self, timeout: float) -> None:
        """Stop the thread and wait up to `timeout` seconds for its run to end."""
        with self._lock:
            thread, self._thread = self._thread, None
            self._stopping.set()
            self._wake.set()
        if thread is not None:
            thread.join(timeout)

    def _run(self, stopping: threading.Event) -> None:
        # The first run happens even when `stop` came first: the kick's message gets its try.
        while True:
            poll = self._deliver()
            if poll is None or stopping.is_set():
                return
            self._wake.wait(poll)
            if stopping.is_set():
                return
            # A kick after this line is not lost: its message is committed, the run below sees it.
            self._wake.clear()

    def _deliver(self) -> float | None:
        """One delivery run; the seconds until the next one, None when the app is gone."""
        app = self._app()
        if app is None:
            return None
        poll = DEFAULT_POLL
        try:
            with app.app_context():
                poll = self._deliver_once()
        except Exception:
            log.exception("outbox: the background sender failed")
        return poll
