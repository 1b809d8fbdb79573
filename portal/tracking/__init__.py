"""Search tracking: what visitors search, open, read and vote, and which searches failed.

Views build small event records and hand them to `track_event`; a writer thread stores
them (see `recorder`). `analysis` judges searches and groups failures into gaps; `trail`
gives a ticket the history of the visit that led to it.
"""

from __future__ import annotations

import datetime as dt
import logging

from flask import Flask
from flask import current_app

from ..service_hours import calendar
from . import analysis
from . import rollups
from . import verdicts
from .analysis import FAILURE_KINDS
from .analysis import OUTCOMES
from .analysis import Deflections
from .analysis import Gap
from .analysis import deflections
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
    "reopen_visit",
    "track_event",
]


def init_app(app: Flask) -> None:
    app.extensions["tracking"] = Recorder(app, app.config["TRACKING_QUEUE_SIZE"],
                                          app.config["TRACKING_GATHER_SECONDS"],
                                          app.config["TRACKING_CLOSE_SECONDS"])


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


def gaps(since: dt.datetime, until: dt.datetime | None = None, now: dt.datetime | None = None,
         limit: int | None = None, from_raw: bool = False) -> list[Gap]:
    """The gaps report: failed searches since `since`, grouped, most failures first; from
    the rollups, or with `from_raw` (or rollups in another time zone) from raw events."""
    now = now or dt.datetime.now(dt.UTC)
    until = until or now
    zone = calendar().zone
    if not from_raw and verdicts.rollups_usable(zone):
        found = rollups.gaps(since, until, now, zone).gaps
    else:
        found = analysis.gaps(since, until, now)
    return found[:limit] if limit else found


def reopen_visit(session_id: int) -> None:
    """A ticket (or another late fact) joined a visit: judge it again if it was judged."""
    verdicts.reopen([session_id])
