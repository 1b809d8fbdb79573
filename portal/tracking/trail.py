"""The search trail a ticket carries: what the customer searched, opened, read and voted."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import TypedDict

from sqlalchemy import select

from ..extensions import db
from ..models import SearchEvent
from .analysis import Visit
from .analysis import judge
from .analysis import load_visits
from .store import current_session


class TrailSession(TypedDict):
    started_at: str | None
    entry_page: str | None
    referrer: str | None


class TrailOpened(TypedDict):
    """A result opened from a search, with the rank it was clicked at."""

    article_id: str
    title: str | None
    rank: int | None


class TrailSearch(TypedDict):
    at: str | None
    query: str
    corrected: str | None
    correction: str | None
    results: int
    failed: bool
    failure: str | None
    opened: list[TrailOpened]


class TrailVote(TypedDict):
    helpful: bool
    reason: str | None


class TrailArticle(TypedDict):
    """An article read: how it was reached, for how long, and the vote on it."""

    at: str | None
    article_id: str
    title: str | None
    via: str
    from_search: str | None
    rank: int | None
    seconds: int | None
    vote: TrailVote | None


class Trail(TypedDict):
    """The trail as stored (JSON) on a ticket."""

    source_page: str | None
    session: TrailSession | None
    searches: list[TrailSearch]
    articles: list[TrailArticle]


def current_visit(visitor_id: str, at: dt.datetime) -> Visit | None:
    """The visitor's visit going on at `at`, if any."""
    session = current_session(visitor_id, at)
    if session is None:
        return None
    visits = load_visits([session.id])
    return visits[0] if visits else None


def _iso(moment: dt.datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def build_trail(visit: Visit | None, ticket_at: dt.datetime,
                title_of: Callable[[str], str | None], source_page: str | None = None) -> Trail:
    """The trail as plain data (stored as JSON on the ticket): each search with its result
    count, failure kind and the results opened; each article read with the time spent, how
    it was reached and the vote; and the page the ticket form was opened from."""
    trail: Trail = {"source_page": source_page, "session": None, "searches": [], "articles": []}
    if visit is None:
        return trail
    session = visit.session
    trail["session"] = {"started_at": _iso(session.started_at), "entry_page": session.entry_page,
                        "referrer": session.referrer}
    search_of_view: dict[int, str] = {}
    for verdict in judge(visit, ticket_at, ticket_at=ticket_at):
        search = verdict.search
        for view in verdict.opened:
            search_of_view[view.id] = search.query
        trail["searches"].append({
            "at": _iso(search.at), "query": search.query, "corrected": search.corrected,
            "correction": search.correction, "results": search.results,
            "failed": verdict.failure is not None, "failure": verdict.failure,
            "opened": [{"article_id": v.article_id, "title": title_of(v.article_id),
                        "rank": v.rank} for v in verdict.opened],
        })
    for event in visit.articles:
        if event.kind != "view":
            continue
        vote: TrailVote | None = None
        votes = [e for e in visit.articles
                 if e.kind == "vote" and e.article_id == event.article_id and e.at >= event.at]
        if votes:
            vote = {"helpful": bool(votes[-1].helpful), "reason": votes[-1].reason}
        trail["articles"].append({
            "at": _iso(event.at), "article_id": event.article_id,
            "title": title_of(event.article_id), "via": event.via,
            "from_search": search_of_view.get(event.id), "rank": event.rank,
            "seconds": round(event.dwell_ms / 1000) if event.dwell_ms is not None else None,
            "vote": vote,
        })
    return trail


def last_query(visitor_id: str, at: dt.datetime) -> str | None:
    """What the visitor searched last in the visit going on at `at` (masked, as stored)."""
    session = current_session(visitor_id, at)
    if session is None:
        return None
    return db.session.scalar(
        select(SearchEvent.query).where(SearchEvent.session_id == session.id)
        .order_by(SearchEvent.at.desc(), SearchEvent.id.desc()).limit(1))
