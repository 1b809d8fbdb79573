"""Search tracking: what visitors search, open, read and vote, and which searches failed.

Views build small event records and hand them to `track_event`; a writer thread stores
them (see `recorder`). `analysis` judges searches and groups failures into gaps; `trail`
gives a ticket the history of the visit that led to it.
"""

from __future__ import annotations

import logging

from flask import Flask
from flask import current_app

from .analysis import FAILURE_KINDS
from .analysis import OUTCOMES
from .analysis import Deflections
from .analysis import Gap
from .analysis import deflections
from .analysis import gaps
from .events import MAX_DWELL_MS
from .events import VIAS
from .events import ArticleOpened
from .events import ArticleRead
from .events import ArticleVoted
from .events import Event
from .events import SearchMade
from .events import mask_personal
from .recorder import Recorder
from .trail import build_trail
from .trail import current_visit
from .trail import last_query

log = logging.getLogger(__name__)

__all__ = [
    "FAILURE_KINDS",
    "MAX_DWELL_MS",
    "OUTCOMES",
    "VIAS",
    "ArticleOpened",
    "ArticleRead",
    "ArticleVoted",
    "Deflections",
    "Event",
    "Gap",
    "SearchMade",
    "build_trail",
    "current_visit",
    "deflections",
    "flush",
    "gaps",
    "init_app",
    "last_query",
    "mask_personal",
    "track_event",
]


def init_app(app: Flask) -> None:
    app.extensions["tracking"] = Recorder(app, app.config["TRACKING_QUEUE_SIZE"],
                                          app.config["TRACKING_GATHER_SECONDS"])


def track_event(event: Event) -> None:
    """Record what a visitor did, without waiting for the database; never raises."""
    if not current_app.config["TRACKING_ENABLED"]:
        return
    try:
        current_app.extensions["tracking"].put(event)
    except Exception:  # tracking must never break a page
        log.exception("could not queue a %s event", type(event).__name__)


def flush(timeout: float = 5.0) -> bool:
    """Wait until this process's queued events are in the database."""
    recorder: Recorder = current_app.extensions["tracking"]
    return recorder.flush(timeout)
