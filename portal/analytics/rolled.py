"""The big parts of a report read from the rollups: the judged visits' searches, help
sessions and reads from `analytics_day`, `analytics_sessions` and `analytics_visit_day`,
the counted votes from `vote_day`; the visits not judged yet and the votes not counted yet
from raw events, as `counts` counts them. Tickets, links, resolutions and responses are
few rows and stay raw. The figures equal the raw report's (tests/test_analytics_rollups.py).

Every period is whole local days and every rollup row is one local day, so no part of a
day is ever read raw: only the open visits (the last half hour's) are.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from collections.abc import Mapping
from typing import Any

from sqlalchemy import String
from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import type_coerce

from ..extensions import db
from ..models import AnalyticsDay
from ..models import AnalyticsSessions
from ..models import AnalyticsVisitDay
from ..models import Ticket
from ..models import VoteDay
from . import counts
from .periods import Period
from .periods import local_midnight
from .report import Report

_DAY = dt.timedelta(days=1)


def _index(period: Period, day: dt.date) -> int:
    """The bucket of a local day of the period."""
    return (day - period.first).days // period.step


def _in_period(column: Any, period: Period) -> Any:
    return and_(column >= period.first, column <= period.last)


def _searches(report: Report, edges: list[dt.datetime], aliases: Mapping[str, str],
              now: dt.datetime) -> None:
    period = report.period
    table = AnalyticsDay.__table__
    for day, searches, zero, clicked in db.session.execute(
            select(table.c.day, table.c.searches, table.c.zero_results, table.c.clicked)
            .where(_in_period(table.c.day, period))):
        bucket = report.buckets[_index(period, day)]
        bucket.searches += searches
        bucket.zero_results += zero
        bucket.clicked += clicked
    counts.searches(report, edges, aliases, now, visits=counts.open_visits())


def _sessions(report: Report, edges: list[dt.datetime], aliases: Mapping[str, str],
              now: dt.datetime) -> None:
    """A judged visit counts when it searched or read within the period, in the bucket of
    the day it began (visits that began before the period, in the first)."""
    period = report.period
    table = AnalyticsSessions.__table__
    for started, sessions in db.session.execute(
            select(table.c.started_day, func.sum(table.c.sessions))
            .where(table.c.first_day <= period.last, table.c.last_day >= period.first,
                   table.c.started_day <= period.last)
            .group_by(table.c.started_day)):
        report.buckets[_index(period, max(started, period.first))].help_sessions += sessions
    counts.sessions(report, edges, aliases, now, visits=counts.open_visits())


def _matured_on(day: dt.date, zone: dt.tzinfo, cut: dt.datetime, reads: int) -> int:
    """How many of a day's first reads came before `cut` (their window is over)."""
    start, end = local_midnight(day, zone), local_midnight(day + _DAY, zone)
    if end <= cut:
        return reads
    if start >= cut:
        return 0
    table = AnalyticsVisitDay.__table__
    return db.session.scalar(select(func.count()).select_from(table).where(
        table.c.first_read_at >= start, table.c.first_read_at < cut)) or 0


def _later_reads(period: Period) -> dict[int, tuple[dt.date, dt.datetime]]:
    """The visits whose first read came before the period and that read again within it
    (across its first midnight): their first read within the period, by visit."""
    table = AnalyticsVisitDay.__table__
    again = select(table.c.session_id).where(
        table.c.read_at.is_not(None), table.c.first_read_at.is_(None),
        _in_period(table.c.day, period))
    days: dict[int, list[Any]] = {}
    for row in db.session.execute(
            select(table.c.session_id, table.c.day, table.c.read_at, table.c.first_read_at)
            .where(table.c.session_id.in_(again), table.c.read_at.is_not(None))):
        days.setdefault(row.session_id, []).append(row)
    found = {}
    for session_id, rows in days.items():
        first = next(r for r in rows if r.first_read_at is not None)
        if first.day >= period.first:
            continue  # its first read is in the period: counted by its day
        within = min((r for r in rows if period.first <= r.day <= period.last),
                     key=lambda r: r.read_at)
        found[session_id] = (within.day, within.read_at)
    return found


def _moment(value: Any) -> dt.datetime:
    """A moment read as text (SQLite's, parsed here at C speed) or as a datetime."""
    if isinstance(value, str):
        return dt.datetime.fromisoformat(value).replace(tzinfo=dt.UTC)
    return value  # type: ignore[no-any-return]


def _followed(report: Report, since: dt.datetime, until: dt.datetime
              ) -> list[tuple[dt.date, dt.datetime]]:
    """The judged visits that read within the period and whose visitor opened a ticket
    within the window after the first of those reads: the day and moment of that read."""
    period, window = report.period, report.window
    table = AnalyticsVisitDay.__table__
    # Each visit's first read with a ticket after it is its first read within the period,
    # and its first ticket after that read is its first ticket after any of them. Thousands
    # of rows: read as text, SQLAlchemy's parsing of SQLite's moments took most of the time.
    found = []
    for day, first, ticket_at in db.session.execute(
            select(func.min(table.c.day), type_coerce(func.min(table.c.read_at), String()),
                   type_coerce(func.min(Ticket.created_at), String()))
            .join(Ticket, and_(Ticket.visitor_id == table.c.visitor_id,
                               Ticket.created_at >= table.c.read_at))
            .where(Ticket.created_at >= since, Ticket.created_at < until + window,
                   table.c.read_at.is_not(None), _in_period(table.c.day, period))
            .group_by(table.c.session_id)):
        if _moment(ticket_at) - _moment(first) <= window:
            found.append((dt.date.fromisoformat(str(day)), _moment(first)))
    return found


def _deflection(report: Report, edges: list[dt.datetime], aliases: Mapping[str, str],
                now: dt.datetime) -> None:
    """As `counts.deflection` counts it: each visit by its first read within the period."""
    period = report.period
    cut = now - report.window
    read = [0] * len(report.buckets)
    matured = [0] * len(report.buckets)
    table = AnalyticsDay.__table__
    for day, reads in db.session.execute(
            select(table.c.day, table.c.reads)
            .where(_in_period(table.c.day, period), table.c.reads != 0)):
        read[_index(period, day)] += reads
        matured[_index(period, day)] += _matured_on(day, period.zone, cut, reads)
    for day, first in _later_reads(period).values():
        read[_index(period, day)] += 1
        matured[_index(period, day)] += first < cut
    for index, bucket in enumerate(report.buckets):
        bucket.read_sessions += matured[index]
        bucket.deflected += matured[index]
        report.pending_sessions += read[index] - matured[index]
    for day, first in _followed(report, edges[0], edges[-1]):
        bucket = report.buckets[_index(period, day)]
        if first < cut:
            bucket.deflected -= 1
        else:
            bucket.read_sessions += 1
            report.pending_sessions -= 1
    counts.deflection(report, edges, aliases, now, visits=counts.open_visits())


def _votes(report: Report, edges: list[dt.datetime], aliases: Mapping[str, str],
           _now: dt.datetime) -> None:
    """The counted votes per day, then per article and answer over the whole period (two
    small sums, not one row per day and article), with the votes not counted yet."""
    period = report.period
    table = VoteDay.__table__
    counted = (_in_period(table.c.day, period), table.c.votes != 0)
    for day, votes, helpful in db.session.execute(
            select(table.c.day, func.sum(table.c.votes),
                   func.sum(case((table.c.helpful, table.c.votes), else_=0)))
            .where(*counted).group_by(table.c.day)):
        bucket = report.buckets[_index(period, day)]
        bucket.votes += votes
        bucket.helpful += helpful
    rows = [(None, article_id, helpful, reason or None, votes)
            for article_id, helpful, reason, votes in db.session.execute(
                select(table.c.article_id, table.c.helpful, table.c.reason,
                       func.sum(table.c.votes))
                .where(*counted)
                .group_by(table.c.article_id, table.c.helpful, table.c.reason))]
    counts.tally_votes(report, rows + counts.vote_rows(edges, uncounted=True), aliases)


#: How each part is counted when the rollups can be read.
ROLLED: dict[str, Callable[..., None]] = {
    **counts.RAW, "searches": _searches, "sessions": _sessions, "deflection": _deflection,
    "votes": _votes,
}
