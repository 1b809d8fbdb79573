"""How each event becomes rows: sessions, searches (typing folded in), article events."""

from __future__ import annotations

import datetime as dt
from functools import singledispatch

from sqlalchemy import exists
from sqlalchemy import select
from sqlalchemy import update

from .. import popularity
from ..extensions import db
from ..models import ArticleEvent
from ..models import SearchEvent
from ..models import SearchSession
from .events import MAX_PAGE
from .events import ArticleOpened
from .events import ArticleRead
from .events import ArticleVoted
from .events import Event
from .events import SearchMade

#: A visit ends after this long without any event; the next event starts a new session.
SESSION_GAP = dt.timedelta(minutes=30)
#: A query that extends (or trims) the previous one this soon is the same search being typed.
TYPING_WINDOW = dt.timedelta(seconds=5)


def session_for(visitor_id: str, at: dt.datetime, page: str | None = None,
                referrer: str | None = None) -> SearchSession:
    """The visitor's session at `at`: the open one, or a new one after 30 quiet minutes."""
    current = db.session.scalar(
        select(SearchSession)
        .where(SearchSession.visitor_id == visitor_id,
               SearchSession.last_seen_at >= at - SESSION_GAP)
        .order_by(SearchSession.last_seen_at.desc())
        .limit(1))
    if current is None:
        current = SearchSession(visitor_id=visitor_id, started_at=at, last_seen_at=at,
                                entry_page=(page or "")[:MAX_PAGE] or None,
                                referrer=(referrer or "")[:MAX_PAGE] or None)
        db.session.add(current)
        db.session.flush()
    elif at > current.last_seen_at:
        current.last_seen_at = at
    return current


def current_session(visitor_id: str, at: dt.datetime) -> SearchSession | None:
    """The visitor's open session at `at`, without starting one."""
    return db.session.scalar(
        select(SearchSession)
        .where(SearchSession.visitor_id == visitor_id,
               SearchSession.last_seen_at >= at - SESSION_GAP)
        .order_by(SearchSession.last_seen_at.desc())
        .limit(1))


@singledispatch
def store(event: Event) -> None:
    """Add the rows for one event to the database session (the caller commits)."""
    raise TypeError(f"no storage for {type(event).__name__}")


def _is_typing(previous: SearchEvent, event: SearchMade) -> bool:
    """True when `event` continues typing `previous`: soon after, one query a prefix of the
    other, nothing opened from the earlier results."""
    if event.at - previous.at > TYPING_WINDOW or event.source != previous.source:
        return False
    before, after = previous.query.casefold(), event.query.casefold()
    if not (after.startswith(before) or before.startswith(after)):
        return False
    opened = db.session.scalar(select(exists().where(ArticleEvent.search_id == previous.id)))
    return not opened


@store.register
def _(event: SearchMade) -> None:
    session = session_for(event.visitor_id, event.at, event.page, event.referrer)
    previous = db.session.scalar(
        select(SearchEvent).where(SearchEvent.session_id == session.id)
        .order_by(SearchEvent.at.desc(), SearchEvent.id.desc()).limit(1))
    fields = dict(uid=event.uid, at=event.at, query=event.query, normalized=event.normalized,
                  corrected=event.corrected, correction=event.correction,
                  results=event.results, latency_ms=event.latency_ms, lang=event.lang,
                  category=event.category, source=event.source)
    if previous is not None and _is_typing(previous, event):
        for name, value in fields.items():
            setattr(previous, name, value)
        previous.replaced += 1
        return
    db.session.add(SearchEvent(session_id=session.id, replaced=0, **fields))


@store.register
def _(event: ArticleOpened) -> None:
    session = session_for(event.visitor_id, event.at, event.page, event.referrer)
    search_id = None
    if event.search_uid:
        # Only a search made in this visitor's own sessions can be credited with the click.
        search_id = db.session.scalar(
            select(SearchEvent.id).join(SearchSession)
            .where(SearchEvent.uid == event.search_uid,
                   SearchSession.visitor_id == event.visitor_id))
    db.session.add(ArticleEvent(
        uid=event.uid, session_id=session.id, at=event.at, kind="view",
        article_id=event.article_id, via=event.via if search_id or event.via != "search"
        else "direct", search_id=search_id, rank=event.rank if search_id else None))
    popularity.count_view(event.article_id, event.at.date())


@store.register
def _(event: ArticleRead) -> None:
    # Pages report the total time so far each time they are hidden: keep the largest.
    own_sessions = select(SearchSession.id).where(SearchSession.visitor_id == event.visitor_id)
    view = db.session.scalar(
        select(ArticleEvent).where(ArticleEvent.uid == event.view_uid,
                                   ArticleEvent.kind == "view",
                                   ArticleEvent.session_id.in_(own_sessions)))
    if view is None:
        return
    if view.dwell_ms is None or event.dwell_ms > view.dwell_ms:
        view.dwell_ms = event.dwell_ms
    db.session.execute(update(SearchSession).where(SearchSession.id == view.session_id,
                                                   SearchSession.last_seen_at < event.at)
                       .values(last_seen_at=event.at))


@store.register
def _(event: ArticleVoted) -> None:
    session = session_for(event.visitor_id, event.at, event.page, event.referrer)
    db.session.add(ArticleEvent(
        uid=event.uid, session_id=session.id,
        at=event.at, kind="vote", article_id=event.article_id, via="direct",
        helpful=event.helpful, reason=event.reason))

