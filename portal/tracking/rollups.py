"""The gaps report read from the rollups: whole local days from `gap_day`, the parts of a
day at the period's edges from the stored verdicts, and the visits still open judged as
the raw report judges them (`analysis`). The figures equal the raw report's on the same
events (tests/test_rollups.py compares them on a generated month)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from dataclasses import field
from typing import Any

from sqlalchemy import and_
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import literal
from sqlalchemy import literal_column
from sqlalchemy import or_
from sqlalchemy import select

from ..extensions import db
from ..models import GapDay
from ..models import GapDayQuery
from ..models import SearchEvent
from ..models import SearchSession
from ..models import SearchVerdict
from .analysis import FAILURE_KINDS
from .analysis import Gap
from .analysis import Verdict
from .analysis import judge
from .analysis import load_visits
from .analysis import most_failed_first
from .analysis import tickets_of
from .verdicts import COUNT_COLUMNS

_CHUNK = 500
_KINDS = {kind: kind for kind in FAILURE_KINDS}
_OUTCOMES = {"ticket": "out_ticket", "found_later": "out_found_later", "left": "out_left"}
Span = tuple[dt.datetime, dt.datetime]
_DAY = dt.timedelta(days=1)
_INSTANT = dt.timedelta(microseconds=1)


def _midnight(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)


def split(since: dt.datetime, until: dt.datetime, now: dt.datetime,
          zone: dt.tzinfo) -> tuple[tuple[dt.date, dt.date] | None, list[Span]]:
    """The whole local days within [since, until) (read from `gap_day`) and the spans left
    at the edges (read from the verdicts). A period that reaches `now` takes today whole:
    nothing judged is later than now."""
    first = since.astimezone(zone).date()
    if _midnight(first, zone) < since:
        first += dt.timedelta(days=1)
    last = until.astimezone(zone).date()
    if until < now:
        last -= dt.timedelta(days=1)
    if first > last:
        return None, [(since, until)]
    spans = []
    if since < _midnight(first, zone):
        spans.append((since, _midnight(first, zone)))
    tail = _midnight(last + dt.timedelta(days=1), zone)
    if tail < until:
        spans.append((tail, until))
    return (first, last), spans


@dataclass
class _Tally:
    """One normalized form's judged searches, added up from rollups and verdicts."""

    counts: Counter[str] = field(default_factory=Counter)
    first: dt.datetime | None = None
    last: dt.datetime | None = None
    typed: Counter[str] = field(default_factory=Counter)
    ticket_sessions: set[int] = field(default_factory=set)
    pending_outcomes: int = 0

    def seen(self, first: dt.datetime | None, last: dt.datetime | None) -> None:
        if first is not None:
            self.first = min(filter(None, [self.first, first]))
        if last is not None:
            self.last = max(filter(None, [self.last, last]))


def _count_if(condition: Any) -> Any:
    return func.coalesce(func.sum(case((condition, 1), else_=0)), 0)


def _in_spans(column: Any, spans: list[Span]) -> Any:
    return or_(*[and_(column >= a, column < b) for a, b in spans])


def _add_days(tallies: dict[str, _Tally], days: tuple[dt.date, dt.date]) -> None:
    table = GapDay.__table__
    for row in db.session.execute(
            select(table.c.normalized, *[func.sum(table.c[n]).label(n) for n in COUNT_COLUMNS],
                   func.min(table.c.first_failed_at).label("first"),
                   func.max(table.c.last_failed_at).label("last"))
            .where(table.c.day >= days[0], table.c.day <= days[1])
            .group_by(table.c.normalized)):
        tally = tallies.setdefault(row.normalized, _Tally())
        tally.counts.update({n: int(getattr(row, n)) for n in COUNT_COLUMNS})
        tally.seen(row.first, row.last)
    queries = GapDayQuery.__table__
    for normalized, query, failures in db.session.execute(
            select(queries.c.normalized, queries.c.query, func.sum(queries.c.failures))
            .where(queries.c.day >= days[0], queries.c.day <= days[1])
            .group_by(queries.c.normalized, queries.c.query)):
        if failures and normalized in tallies:
            tallies[normalized].typed[query] += int(failures)


def _add_spans(tallies: dict[str, _Tally], spans: list[Span]) -> None:
    table = SearchVerdict.__table__
    failed = table.c.failure.is_not(None)
    columns = [func.count().label("searches"), _count_if(failed).label("failures"),
               *[_count_if(table.c.failure == k).label(c) for k, c in _KINDS.items()],
               *[_count_if(table.c.outcome == o).label(c) for o, c in _OUTCOMES.items()]]
    for row in db.session.execute(
            select(table.c.normalized, *columns,
                   func.min(case((failed, table.c.at))).label("first"),
                   func.max(case((failed, table.c.at))).label("last"))
            .where(_in_spans(table.c.at, spans)).group_by(table.c.normalized)):
        tally = tallies.setdefault(row.normalized, _Tally())
        tally.counts.update({n: int(getattr(row, n)) for n in COUNT_COLUMNS})
        tally.seen(row.first, row.last)
    for normalized, query, failures in db.session.execute(
            select(table.c.normalized, table.c.query, func.count())
            .where(_in_spans(table.c.at, spans), failed)
            .group_by(table.c.normalized, table.c.query)):
        tallies[normalized].typed[query] += failures


def _add_verdicts(tallies: dict[str, _Tally], verdicts: Iterable[Verdict]) -> None:
    for verdict in verdicts:
        if verdict.pending:
            continue
        search = verdict.search
        tally = tallies.setdefault(search.normalized, _Tally())
        tally.counts["searches"] += 1
        if verdict.failure is None:
            continue
        tally.counts["failures"] += 1
        tally.counts[_KINDS[verdict.failure]] += 1
        if verdict.outcome == "pending":
            tally.pending_outcomes += 1
        else:
            assert verdict.outcome is not None
            tally.counts[_OUTCOMES[verdict.outcome]] += 1
        tally.seen(search.at, search.at)
        tally.typed[search.query] += 1
        if verdict.outcome == "ticket":
            tally.ticket_sessions.add(search.session_id)


def open_verdicts(since: dt.datetime, until: dt.datetime, now: dt.datetime,
                  normalized: str | None = None) -> list[Verdict]:
    """The verdicts, as of `now`, of the searches in [since, until) of visits not judged
    for good yet (with `normalized`, only visits that searched that)."""
    # The visits not judged are few (the last half hour's): find them first, by the index
    # on judged_at, then those of them that searched in the period.
    unjudged = list(db.session.scalars(select(SearchSession.id).where(
        SearchSession.judged_at.is_(None))))
    ids: set[int] = set()
    for start in range(0, len(unjudged), _CHUNK):
        searched = select(SearchEvent.session_id).distinct().where(
            SearchEvent.session_id.in_(unjudged[start:start + _CHUNK]),
            SearchEvent.at >= since, SearchEvent.at < until)
        if normalized is not None:
            searched = searched.where(SearchEvent.normalized == normalized)
        ids.update(db.session.scalars(searched))
    found: list[Verdict] = []
    for visit in load_visits(ids):
        found.extend(v for v in judge(visit, now) if since <= v.search.at < until)
    return found


def _ticket_sessions(tallies: dict[str, _Tally], since: dt.datetime,
                     until: dt.datetime) -> None:
    table = SearchVerdict.__table__
    for normalized, session_id in db.session.execute(
            select(table.c.normalized, table.c.session_id).distinct()
            .where(table.c.outcome == "ticket", table.c.at >= since, table.c.at < until)):
        if normalized in tallies:
            tallies[normalized].ticket_sessions.add(session_id)


def _gap(normalized: str, tally: _Tally, tickets: dict[int, list[int]], samples: int) -> Gap:
    counts = tally.counts
    gap = Gap(normalized, searches=counts["searches"], failures=counts["failures"],
              first_seen=tally.first, last_seen=tally.last)
    gap.kinds = {k: counts[c] for k, c in _KINDS.items() if counts[c]}
    gap.outcomes = {o: counts[c] for o, c in _OUTCOMES.items() if counts[c]}
    if tally.pending_outcomes:
        gap.outcomes["pending"] = tally.pending_outcomes
    ordered = sorted(tally.typed.items(), key=lambda kv: (-kv[1], kv[0]))
    gap.samples = [q for q, n in ordered if n][:samples]
    for session_id in sorted(tally.ticket_sessions):
        for ticket_id in tickets.get(session_id, []):
            if ticket_id not in gap.ticket_ids:
                gap.ticket_ids.append(ticket_id)
    return gap


@dataclass
class Found:
    """The gaps of a period, and for their trends: the verdicts of its visits still open,
    and how the period was split (whole local days of `zone`, spans at the edges)."""

    gaps: list[Gap]
    open: list[Verdict]
    days: tuple[dt.date, dt.date] | None
    spans: list[Span]
    zone: dt.tzinfo


def gaps(since: dt.datetime, until: dt.datetime, now: dt.datetime, zone: dt.tzinfo,
         samples: int = 5) -> Found:
    """The gaps report of [since, until) as `analysis.gaps` makes it, from the rollups."""
    tallies: dict[str, _Tally] = {}
    days, spans = split(since, until, now, zone)
    if days is not None:
        _add_days(tallies, days)
    if spans:
        _add_spans(tallies, spans)
    still_open = open_verdicts(since, until, now)
    _add_verdicts(tallies, still_open)
    failing = {n: t for n, t in tallies.items() if t.counts["failures"]}
    if any(t.counts["out_ticket"] for t in failing.values()):
        _ticket_sessions(failing, since, until)
    tickets = tickets_of({s for t in failing.values() for s in t.ticket_sessions})
    found = [_gap(n, t, tickets, samples) for n, t in failing.items()]
    found.sort(key=most_failed_first)
    return Found(found, still_open, days, spans, zone)


def _bucket(column: Any, since: dt.datetime, size: dt.timedelta, buckets: int) -> Any:
    """SQL for the bucket of `column`: a balanced tree of comparisons with the edges."""

    def node(low: int, high: int) -> Any:
        if high - low == 1:
            return literal(low)
        middle = (low + high) // 2
        return case((column < since + middle * size, node(low, middle)),
                    else_=node(middle, high))

    return node(0, buckets)


def failure_trends(normalized: list[str], since: dt.datetime, until: dt.datetime,
                   size: dt.timedelta, found: Found) -> dict[str, list[int]]:
    """Failures of each of these forms in [since, until), per bucket of `size` from `since`
    (the last bucket takes the rest): a whole day that falls in one bucket from `gap_day`,
    the rest (the edges, a day a bucket edge cuts, as a clock change can) from the
    verdicts, and the visits still open."""
    buckets = max(1, -(-(until - since) // size))
    trends: dict[str, list[int]] = {n: [0] * buckets for n in normalized}

    def bucket_of(moment: dt.datetime) -> int:
        return max(0, min(buckets - 1, int((moment - since) // size)))

    spans = list(found.spans)
    whole: dict[dt.date, int] = {}
    if found.days is not None:
        day = found.days[0]
        while day <= found.days[1]:
            start, end = _midnight(day, found.zone), _midnight(day + _DAY, found.zone)
            if bucket_of(start) == bucket_of(end - _INSTANT):
                whole[day] = bucket_of(start)
            else:
                spans.append((start, end))
            day += _DAY
    if whole and normalized:
        table = GapDay.__table__
        for form, day, failures in db.session.execute(
                select(table.c.normalized, table.c.day, table.c.failures)
                .where(table.c.normalized.in_(normalized), table.c.day >= min(whole),
                       table.c.day <= max(whole), table.c.failures > 0)):
            if day in whole:
                trends[form][whole[day]] += failures
    if spans:
        bucket = _bucket(SearchVerdict.at, since, size, buckets).label("bucket")
        # One form at a time: with an equality, every database reads the (normalized, at)
        # index; with IN, SQLite without statistics chose the index on `at`.
        for form, row in trends.items():
            for index, failures in db.session.execute(
                    select(bucket, func.count())
                    .where(SearchVerdict.normalized == form, _in_spans(SearchVerdict.at, spans),
                           SearchVerdict.failure.is_not(None))
                    .group_by(literal_column("bucket"))):
                row[int(index)] += failures
    for verdict in found.open:
        search = verdict.search
        if verdict.failure is not None and not verdict.pending and search.normalized in trends:
            trends[search.normalized][bucket_of(search.at)] += 1
    return trends


def rates(normalized: str, since: dt.datetime, pivot: dt.datetime, now: dt.datetime
          ) -> tuple[tuple[int, int], tuple[int, int]]:
    """(failures, searches) of one form's judged searches in [since, pivot) and
    [pivot, now)."""
    table = SearchVerdict.__table__
    failed = table.c.failure.is_not(None)
    before = table.c.at < pivot
    row: Any = db.session.execute(
        select(_count_if(before & failed), _count_if(before), _count_if(~before & failed),
               _count_if(~before))
        .where(table.c.normalized == normalized, table.c.at >= since,
               table.c.at < now)).one()
    counts = [int(n) for n in row]
    for verdict in open_verdicts(since, now, now, normalized):
        if verdict.pending or verdict.search.normalized != normalized:
            continue
        offset = 0 if verdict.search.at < pivot else 2
        counts[offset] += verdict.failure is not None
        counts[offset + 1] += 1
    return (counts[0], counts[1]), (counts[2], counts[3])
