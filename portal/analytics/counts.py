"""The counting: every metric of a period in SQL, per bucket of the team's local days.

Each part of a report is one or two grouped queries; the bucket of a row is a balanced CASE
over the bucket edges, which SQLite and PostgreSQL both run. Only the few visits followed by
a ticket are looked at in Python.
"""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping

from sqlalchemy import JSON
from sqlalchemy import DateTime
from sqlalchemy import and_
from sqlalchemy import bindparam
from sqlalchemy import case
from sqlalchemy import cast
from sqlalchemy import column
from sqlalchemy import func
from sqlalchemy import literal_column
from sqlalchemy import select
from sqlalchemy import type_coerce

from ..extensions import db
from ..models import ArticleEvent
from ..models import SearchEvent
from ..models import SearchSession
from ..models import Ticket
from ..models import TicketEvent
from ..models import TicketLink
from ..models import UtcDateTime
from ..models import Vote
from .report import NO_REASON
from .report import ArticleLinks
from .report import ArticleResolutions
from .report import ArticleVotes
from .report import LineResponses
from .report import Report
from .rollups import NOT_SELF_HELP

PARTS = frozenset({"searches", "sessions", "tickets", "deflection", "votes", "links",
                   "resolutions", "responses"})


#: Up to this many visits not judged yet are looked up by id (by the index on the session
#: of each event); more (the job that judges them has not run) are read by a subquery.
OPEN_BY_ID = 5000


def open_visits():
    """The visits not judged yet, which the rollups hold none of (see `rollups`): their
    ids, or a subquery when there are many."""
    unjudged = select(SearchSession.id).where(SearchSession.judged_at.is_(None))
    ids = list(db.session.scalars(unjudged.limit(OPEN_BY_ID + 1)))
    return unjudged if len(ids) > OPEN_BY_ID else ids


@functools.lru_cache(maxsize=64)
def _bucket(column, buckets: int):
    """SQL for the index of the bucket holding `column`, as a balanced tree of comparisons
    with the bucket edges (parameters `edge_1` ...; see `_edges`): about log2(buckets)
    comparisons per row, in any SQL database. Built once per column and bucket count."""

    def node(low: int, high: int):
        if high - low == 1:
            return literal_column(str(low))
        middle = (low + high) // 2
        edge = bindparam(f"edge_{middle}", type_=UtcDateTime)
        return case((column < edge, node(low, middle)), else_=node(middle, high))

    return node(0, buckets).label("bucket")


def _edges(edges: list[dt.datetime]) -> dict[str, dt.datetime]:
    """The values of the parameters of `_bucket`."""
    return {f"edge_{n}": edge for n, edge in enumerate(edges)}


#: The first activity of a visit, as a column of the subqueries that find it.
_FIRST_AT = column("first_at", UtcDateTime)
_BY_BUCKET = literal_column("bucket")


def _within(column, edges: list[dt.datetime]):
    return and_(column >= edges[0], column < edges[-1])


def _count_if(condition):
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def searches(report: Report, edges, _aliases, _now, visits=None) -> None:
    """Searches, those that found nothing and those with a result opened (of `visits`
    only, a subquery of session ids, when given)."""
    # A result is opened after its search, so views since the period began are enough; one
    # set of them (not a lookup per search) is what both databases do fastest.
    opened = select(ArticleEvent.search_id).where(
        ArticleEvent.kind == "view", ArticleEvent.search_id.is_not(None),
        ArticleEvent.at >= edges[0])
    where = [_within(SearchEvent.at, edges)]
    if visits is not None:
        where.append(SearchEvent.session_id.in_(visits))
        opened = opened.where(ArticleEvent.search_id.in_(
            select(SearchEvent.id).where(*where)))
    rows = db.session.execute(
        select(_bucket(SearchEvent.at, len(edges) - 1), func.count(),
               _count_if(SearchEvent.results == 0), _count_if(SearchEvent.id.in_(opened)))
        .where(*where).group_by(_BY_BUCKET), _edges(edges))
    for index, found, zero, clicked in rows:
        bucket = report.buckets[index]
        bucket.searches += found
        bucket.zero_results += zero
        bucket.clicked += clicked


def _self_help_views(edges):
    """Article views in the period that were not opened from a support reply."""
    return (ArticleEvent.kind == "view", ArticleEvent.via != NOT_SELF_HELP,
            _within(ArticleEvent.at, edges))


def sessions(report: Report, edges, _aliases, _now, visits=None) -> None:
    """Help sessions, each in the bucket of the day it began (visits that began before the
    period, in its first bucket); of `visits` only, when given."""
    searched = select(SearchEvent.session_id).where(_within(SearchEvent.at, edges))
    read = select(ArticleEvent.session_id).where(*_self_help_views(edges))
    where = [SearchSession.last_seen_at >= edges[0], SearchSession.started_at < edges[-1]]
    if visits is not None:
        searched = searched.where(SearchEvent.session_id.in_(visits))
        read = read.where(ArticleEvent.session_id.in_(visits))
        where.append(SearchSession.id.in_(visits))
    rows = db.session.execute(
        select(_bucket(SearchSession.started_at, len(edges) - 1), func.count())
        .where(*where, SearchSession.id.in_(searched) | SearchSession.id.in_(read))
        .group_by(_BY_BUCKET), _edges(edges))
    for index, found in rows:
        report.buckets[index].help_sessions += found


def _tickets(report: Report, edges, _aliases, _now) -> None:
    rows = db.session.execute(select(_bucket(Ticket.created_at, len(edges) - 1), func.count())
                              .where(_within(Ticket.created_at, edges)).group_by(_BY_BUCKET),
                              _edges(edges))
    for index, tickets in rows:
        report.buckets[index].tickets = tickets


def deflection(report: Report, edges, _aliases, now: dt.datetime, visits=None) -> None:
    """Visits that read an article, by their first read; a visit is decided once its window
    is over or a ticket came within it. Of `visits` only, when given."""
    reads = select(ArticleEvent.session_id, func.min(ArticleEvent.at).label("first_at")) \
        .where(*_self_help_views(edges))
    if visits is not None:
        reads = reads.where(ArticleEvent.session_id.in_(visits))
    reads = reads.group_by(ArticleEvent.session_id).subquery()
    matured_before = now - report.window
    for index, read, matured in db.session.execute(
            select(_bucket(_FIRST_AT, len(edges) - 1), func.count(),
                   _count_if(reads.c.first_at < matured_before))
            .select_from(reads).group_by(_BY_BUCKET), _edges(edges)):
        bucket = report.buckets[index]
        bucket.read_sessions += matured
        bucket.deflected += matured
        report.pending_sessions += read - matured
    # The visits whose visitor wrote a ticket afterwards: was it within the window? (Plain
    # datetimes, both read the same way, since only their difference matters: thousands
    # of rows.)
    followed = db.session.execute(
        select(_bucket(_FIRST_AT, len(edges) - 1), reads.c.first_at < matured_before,
               type_coerce(reads.c.first_at, DateTime()),
               type_coerce(func.min(Ticket.created_at), DateTime()))
        .join(SearchSession, SearchSession.id == reads.c.session_id)
        .join(Ticket, and_(Ticket.visitor_id == SearchSession.visitor_id,
                           Ticket.created_at >= reads.c.first_at,
                           Ticket.created_at < edges[-1] + report.window))
        .group_by(reads.c.session_id, reads.c.first_at), _edges(edges))
    for index, matured, first, ticket_at in followed:
        if ticket_at - first > report.window:
            continue
        if matured:
            report.buckets[index].deflected -= 1
        else:
            report.buckets[index].read_sessions += 1
            report.pending_sessions -= 1


def vote_rows(edges, uncounted: bool = False
              ) -> list[tuple[int | None, str, bool, str | None, int]]:
    """(bucket, article, helpful, reason, votes) of the votes given or changed in the
    period; with `uncounted`, only those `vote_day` does not count yet."""
    where = [_within(Vote.updated_at, edges)]
    if uncounted:
        where.append(Vote.counted_day.is_(None))
    return [(index, article_id, helpful, reason, votes) for index, article_id, helpful, reason,
            votes in db.session.execute(
                select(_bucket(Vote.updated_at, len(edges) - 1), Vote.article_id, Vote.helpful,
                       Vote.reason, func.count())
                .where(*where)
                .group_by(_BY_BUCKET, Vote.article_id, Vote.helpful, Vote.reason),
                _edges(edges))]


def tally_votes(report: Report,
                rows: Iterable[tuple[int | None, str, bool, str | None, int]],
                aliases: Mapping[str, str]) -> None:
    """Votes per bucket, the articles' answers and the reasons of the "no"s, from rows of
    (bucket, article, helpful, reason, votes); a row without a bucket is already in its
    bucket's figures."""
    articles: dict[str, ArticleVotes] = {}
    for index, article_id, helpful, reason, votes in rows:
        if not votes:
            continue
        if index is not None:
            bucket = report.buckets[index]
            bucket.votes += votes
            bucket.helpful += votes if helpful else 0
        article_id = aliases.get(article_id, article_id)
        entry = articles.setdefault(article_id, ArticleVotes(article_id))
        entry.votes += votes
        if helpful:
            entry.helpful += votes
        else:
            reason = reason or NO_REASON
            entry.reasons[reason] = entry.reasons.get(reason, 0) + votes
            report.reasons[reason] = report.reasons.get(reason, 0) + votes
    report.articles = sorted(articles.values(),
                             key=lambda a: (-a.not_helpful, -a.votes, a.article_id))
    report.reasons = dict(sorted(report.reasons.items(), key=lambda kv: (-kv[1], kv[0])))


def _votes(report: Report, edges, aliases: Mapping[str, str], _now) -> None:
    tally_votes(report, vote_rows(edges), aliases)


def _links(report: Report, edges, aliases: Mapping[str, str], _now) -> None:
    articles: dict[str, ArticleLinks] = {}
    for article_id, links, opens, opened in db.session.execute(
            select(TicketLink.article_id, func.count(), func.sum(TicketLink.opens),
                   _count_if(TicketLink.opens > 0))
            .where(_within(TicketLink.created_at, edges)).group_by(TicketLink.article_id)):
        article_id = aliases.get(article_id, article_id)
        entry = articles.setdefault(article_id, ArticleLinks(article_id))
        entry.links += links
        entry.opens += opens or 0
        entry.opened += opened
    report.links = sorted(articles.values(), key=lambda a: (-a.links, -a.opens, a.article_id))


def _resolutions(report: Report, edges, aliases: Mapping[str, str], _now) -> None:
    """Tickets resolved in the period that are still resolved or closed (a customer who
    wrote again reopened theirs: that article did not solve it)."""
    articles: dict[str, ArticleResolutions] = {}
    for article_id, tickets in db.session.execute(
            select(Ticket.resolution_article_id, func.count())
            .where(_within(Ticket.resolved_at, edges),
                   Ticket.status.in_(("resolved", "closed")))
            .group_by(Ticket.resolution_article_id)):
        report.resolved += tickets
        if article_id is None:
            continue
        article_id = aliases.get(article_id, article_id)
        articles.setdefault(article_id, ArticleResolutions(article_id)).tickets += tickets
    report.resolutions = sorted(articles.values(), key=lambda a: (-a.tickets, a.article_id))


def _json(column):
    """The JSON in a text column, ready for path lookups: PostgreSQL needs a cast to json,
    while in SQLite a cast would turn the text into a number (its JSON functions read the
    text as it is)."""
    if db.session.get_bind().dialect.name == "postgresql":
        return cast(column, JSON)
    return type_coerce(column, JSON)


def _responses(report: Report, edges, _aliases, _now) -> None:
    data = _json(TicketEvent.data)
    line = data["line"].as_integer().label("line_number")
    lines: dict[int, LineResponses] = {}
    for index, number, responses, late, waited in db.session.execute(
            select(_bucket(TicketEvent.at, len(edges) - 1), line, func.count(),
                   _count_if(data["late"].as_boolean()),
                   func.coalesce(func.sum(data["waited_s"].as_integer()), 0))
            .where(TicketEvent.kind == "responded", _within(TicketEvent.at, edges))
            .group_by(_BY_BUCKET, literal_column("line_number")), _edges(edges)):
        bucket = report.buckets[index]
        bucket.responses += responses
        bucket.on_time += responses - late
        entry = lines.setdefault(number, LineResponses(number))
        entry.responses += responses
        entry.on_time += responses - late
        entry.waited_s += int(waited)
    report.lines = [lines[n] for n in sorted(lines, key=lambda n: (n is None, n or 0))]


#: How each part is counted from raw events.
RAW: dict[str, Callable] = {
    "searches": searches, "sessions": sessions, "tickets": _tickets,
    "deflection": deflection, "votes": _votes, "links": _links,
    "resolutions": _resolutions, "responses": _responses,
}
