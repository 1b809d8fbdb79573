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

from sqlalchemy import Integer
from sqlalchemy import Interval
from sqlalchemy import and_
from sqlalchemy import bindparam
from sqlalchemy import case
from sqlalchemy import cast
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy import true

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
    the day it began (visits that began before the period, in the first). A visit helped
    on every day from its first to its last: a day in between with no search or read
    would take a whole day of other clicks, each less than 30 minutes apart."""
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
    again = select(table.c.session_id).where(table.c.later_read == true(),
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


def _micros(moment: Any) -> Any:
    """SQLite: a stored moment (text to the microsecond) as whole microseconds."""
    return (cast(func.strftime("%s", moment), Integer) * 1_000_000
            + cast(func.substr(moment, 21, 6), Integer))


def _soon_after(earlier: Any, later: Any, window: dt.timedelta) -> Any:
    """SQL: `later` came at most `window` after `earlier`, to the microsecond."""
    if db.session.get_bind().dialect.name == "postgresql":
        return later - earlier <= bindparam("window", window, type_=Interval)
    micros = window // dt.timedelta(microseconds=1)
    return _micros(later) - _micros(earlier) <= bindparam("window_us", micros, Integer)


def _followed(report: Report, since: dt.datetime, until: dt.datetime, cut: dt.datetime
              ) -> list[tuple[dt.date, int, int]]:
    """The judged visits that read within the period and whose visitor opened a ticket
    within the window after the first of those reads, per day of that read: (day, visits,
    those of them whose window is over: first read before `cut`)."""
    period, window = report.period, report.window
    table = AnalyticsVisitDay.__table__
    # Each visit's first read with a ticket after it is its first read within the period,
    # and its first ticket after that read is its first ticket after any of them.
    first_at, ticket_at = func.min(table.c.read_at), func.min(Ticket.created_at)
    visits = (select(func.min(table.c.day).label("day"), first_at.label("first_at"))
              .join(Ticket, and_(Ticket.visitor_id == table.c.visitor_id,
                                 Ticket.created_at >= table.c.read_at))
              .where(Ticket.created_at >= since, Ticket.created_at < until + window,
                     table.c.read_at.is_not(None), _in_period(table.c.day, period))
              .group_by(table.c.session_id)
              .having(_soon_after(first_at, ticket_at, window)).subquery())
    return [(day, n, matured) for day, n, matured in db.session.execute(
        select(visits.c.day, func.count(),
               func.coalesce(func.sum(case((visits.c.first_at < cut, 1), else_=0)), 0))
        .group_by(visits.c.day))]


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
    for day, followed, matured_ones in _followed(report, edges[0], edges[-1], cut):
        bucket = report.buckets[_index(period, day)]
        bucket.deflected -= matured_ones
        bucket.read_sessions += followed - matured_ones
        report.pending_sessions -= followed - matured_ones
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
