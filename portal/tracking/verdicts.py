"""Judging each search once: verdicts stored when a visit closes, and the gaps rollups.

A visit closes 30 quiet minutes after its last event (plus `GRACE`, for events still in a
writer's queue). Then its searches are judged (`analysis.judge`, the same rule the raw
report applies), the verdicts stored in `search_verdict`, and added to the daily rollups:
`gap_day` (per local day of the team and normalized form: searches, failures by kind and
outcome, first and last failure) and `gap_day_query` (failures per typed query, the
samples). The report adds up the rollups and judges only the visits still open. The same
step counts the visit in the analytics rollups (`analytics.rollups`), and each run counts
the votes given or changed since (`feedback.count_votes`).

Once closed, a visit's verdicts change only when an event reaches it late: a reading time
reported hours later, an event held in a queue past `GRACE`, a ticket joined to it. Those
paths call `reopen`, which takes the visit's verdicts out of the rollups and marks it open
again; the next `close_visits` judges it anew. (A vote or click after the visit ended starts
a visit of its own, and `judge` never looks across visits, so it changes nothing here.)

Every writer of rollups first updates the `lock` row of `rollup_state`, so two processes
closing visits take turns (a row lock on PostgreSQL, the write lock on SQLite) and each
verdict is counted once; what is written is a function of the events, so a repeat is
harmless. The days are the support team's (`SUPPORT_TIMEZONE`); the zone is kept in
`rollup_state`, and when it changes the rollups are not used until `portal report rollup`
rebuilds them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections import Counter
from collections.abc import Callable
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete
from sqlalchemy import func
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite

from .. import feedback
from ..analytics import rollups as analytics_rollups
from ..extensions import db
from ..models import GapDay
from ..models import GapDayQuery
from ..models import RollupState
from ..models import SearchSession
from ..models import SearchVerdict
from .analysis import judge
from .analysis import load_visits
from .events import SESSION_GAP

log = logging.getLogger(__name__)

#: A visit is closed this long after it ended, so that events still queued reach it first.
GRACE = dt.timedelta(minutes=2)
#: Visits judged in one transaction.
CLOSE_CHUNK = 1000
_KIND_COLUMNS = {"no_results": "no_results", "partial": "partial", "not_opened": "not_opened",
                 "voted_no": "voted_no", "ticket": "ticket"}
_OUTCOME_COLUMNS = {"ticket": "out_ticket", "found_later": "out_found_later",
                    "left": "out_left"}
COUNT_COLUMNS = ("searches", "failures", *_KIND_COLUMNS.values(), *_OUTCOME_COLUMNS.values())


def zone_name(zone: dt.tzinfo) -> str:
    return getattr(zone, "key", str(zone))


def _take_turn() -> None:
    """Wait for (then hold, until the commit) the right to change rollups."""
    done = db.session.execute(update(RollupState).where(RollupState.name == "lock")
                              .values(value=RollupState.value))
    if not done.rowcount:  # type: ignore[attr-defined]
        db.session.add(RollupState(name="lock", value=""))
        db.session.flush()


def stored_zone() -> str | None:
    """The time zone the rollups' days are in (None before the first visit closed)."""
    return db.session.scalar(select(RollupState.value).where(RollupState.name == "zone"))


def rollups_usable(zone: dt.tzinfo) -> bool:
    """True when the rollups' days are days of `zone` (or there are none yet)."""
    stored = stored_zone()
    return stored is None or stored == zone_name(zone)


@dataclass
class _Delta:
    """What some verdicts add to (or, negated, take from) one row of `gap_day`."""

    counts: Counter[str]
    first: dt.datetime | None = None
    last: dt.datetime | None = None


def _deltas(rows: Iterable[Any]) -> tuple[dict[tuple[dt.date, str], _Delta],
                                         Counter[tuple[dt.date, str, str]]]:
    """Rows with day, normalized, query, at, failure, outcome, counted per rollup key."""
    days: dict[tuple[dt.date, str], _Delta] = {}
    queries: Counter[tuple[dt.date, str, str]] = Counter()
    for row in rows:
        delta = days.setdefault((row.day, row.normalized), _Delta(Counter()))
        delta.counts["searches"] += 1
        if row.failure is None:
            continue
        delta.counts["failures"] += 1
        delta.counts[_KIND_COLUMNS[row.failure]] += 1
        delta.counts[_OUTCOME_COLUMNS[row.outcome]] += 1
        delta.first = min(filter(None, [delta.first, row.at]))
        delta.last = max(filter(None, [delta.last, row.at]))
        queries[(row.day, row.normalized, row.query)] += 1
    return days, queries


def _upsert(model: Any) -> Any:
    """INSERT ... ON CONFLICT for this database (SQLite and PostgreSQL both have it), on
    the table (the ORM's bulk path would send it row by row)."""
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model.__table__)


def _earliest(a: Any, b: Any) -> Any:
    least = func.least if db.session.get_bind().dialect.name == "postgresql" else func.min
    return least(func.coalesce(a, b), func.coalesce(b, a))


def _latest(a: Any, b: Any) -> Any:
    greatest = func.greatest if db.session.get_bind().dialect.name == "postgresql" else func.max
    return greatest(func.coalesce(a, b), func.coalesce(b, a))


def _add(days: dict[tuple[dt.date, str], _Delta],
         queries: Counter[tuple[dt.date, str, str]]) -> None:
    """Add counted verdicts to the rollups (rows are made as needed)."""
    if days:
        statement = _upsert(GapDay)
        table = GapDay.__table__
        statement = statement.on_conflict_do_update(
            index_elements=["day", "normalized"],
            set_={**{name: table.c[name] + statement.excluded[name] for name in COUNT_COLUMNS},
                  "first_failed_at": _earliest(table.c.first_failed_at,
                                               statement.excluded.first_failed_at),
                  "last_failed_at": _latest(table.c.last_failed_at,
                                            statement.excluded.last_failed_at)})
        db.session.execute(statement, [
            {"day": day, "normalized": normalized, "first_failed_at": delta.first,
             "last_failed_at": delta.last, **{n: delta.counts[n] for n in COUNT_COLUMNS}}
            for (day, normalized), delta in sorted(days.items())])
    if queries:
        statement = _upsert(GapDayQuery)
        statement = statement.on_conflict_do_update(
            index_elements=["day", "normalized", "query"],
            set_={"failures": GapDayQuery.__table__.c.failures + statement.excluded.failures})
        db.session.execute(statement, [
            {"day": day, "normalized": normalized, "query": query, "failures": n}
            for (day, normalized, query), n in sorted(queries.items())])


def _take_away(days: dict[tuple[dt.date, str], _Delta],
               queries: Counter[tuple[dt.date, str, str]]) -> None:
    """Take verdicts out of the rollups; the first and last failure of each row touched are
    found again from the verdicts left (the caller has deleted the ones taken away)."""
    table = GapDay.__table__
    for (day, normalized), delta in days.items():
        remaining = (select(func.min(SearchVerdict.at), func.max(SearchVerdict.at))
                     .where(SearchVerdict.day == day, SearchVerdict.normalized == normalized,
                            SearchVerdict.failure.is_not(None)))
        first, last = db.session.execute(remaining).one()
        db.session.execute(
            update(GapDay).where(GapDay.day == day, GapDay.normalized == normalized)
            .values(first_failed_at=first, last_failed_at=last,
                    **{n: table.c[n] - delta.counts[n] for n in COUNT_COLUMNS}))
    for (day, normalized, query), n in queries.items():
        db.session.execute(
            update(GapDayQuery).where(GapDayQuery.day == day,
                                      GapDayQuery.normalized == normalized,
                                      GapDayQuery.query == query)
            .values(failures=GapDayQuery.failures - n))


def _forget(session_ids: list[int]) -> None:
    """Take these sessions out of the rollups (gaps and analytics) and delete their
    verdicts."""
    analytics_rollups.take_away(session_ids)
    table = SearchVerdict.__table__
    rows = db.session.execute(select(table).where(table.c.session_id.in_(session_ids))).all()
    if not rows:
        return
    db.session.execute(delete(SearchVerdict).where(SearchVerdict.session_id.in_(session_ids)))
    _take_away(*_deltas(rows))


def _record_zone(zone: dt.tzinfo) -> None:
    name = zone_name(zone)
    stored = stored_zone()
    if stored is None:
        db.session.add(RollupState(name="zone", value=name))
    elif stored != name:
        raise RollupZoneChanged(stored, name)


class RollupZoneChanged(RuntimeError):
    """The team's time zone is not the one the rollups were made in."""

    def __init__(self, stored: str, configured: str) -> None:
        super().__init__(f"the rollups count days in {stored}, SUPPORT_TIMEZONE is "
                         f"{configured}: run 'portal report rollup' to count them again")


def close_visits(now: dt.datetime, zone: dt.tzinfo, limit: int | None = None) -> int:
    """Judge the visits that ended (30 quiet minutes and `GRACE` ago) and are not judged
    yet, store their verdicts and add them to the rollups; how many visits were closed.
    Commits after each chunk."""
    ended_before = now - SESSION_GAP - GRACE
    closed = 0
    while limit is None or closed < limit:
        _take_turn()
        _record_zone(zone)
        chunk = min(CLOSE_CHUNK, limit - closed) if limit is not None else CLOSE_CHUNK
        ids = list(db.session.scalars(
            select(SearchSession.id)
            .where(SearchSession.judged_at.is_(None), SearchSession.last_seen_at < ended_before)
            # In the order of the (judged_at, last_seen_at) index: by id, each chunk would
            # step over every visit judged before it.
            .order_by(SearchSession.last_seen_at, SearchSession.id).limit(chunk)))
        if not ids:
            feedback.count_votes(now, zone)
            db.session.commit()
            break
        _forget(ids)  # none, unless judged before and reopened without this step
        rows = []
        visits = load_visits(ids)
        analytics_rollups.add_visits(visits, zone)
        for visit in visits:
            for verdict in judge(visit, now):
                search = verdict.search
                rows.append({"search_id": search.id, "session_id": search.session_id,
                             "at": search.at, "day": search.at.astimezone(zone).date(),
                             "normalized": search.normalized, "query": search.query,
                             "failure": verdict.failure, "outcome": verdict.outcome})
        if rows:
            db.session.execute(insert(SearchVerdict.__table__), rows)
            _add(*_deltas(_Row(r) for r in rows))
        db.session.execute(update(SearchSession).where(SearchSession.id.in_(ids))
                           .values(judged_at=now))
        db.session.commit()
        closed += len(ids)
    return closed


class _Row:
    """A verdict as `_deltas` reads it, from the dict that was inserted."""

    __slots__ = ("at", "day", "failure", "normalized", "outcome", "query")

    def __init__(self, values: dict[str, Any]) -> None:
        for name in self.__slots__:
            setattr(self, name, values[name])


def reopen(session_ids: Iterable[int]) -> int:
    """An event reached these visits after they were judged: take their verdicts out of
    the rollups until they are judged again (in the caller's transaction); how many were."""
    ids = sorted(set(session_ids))
    if not ids:
        return 0
    judged = list(db.session.scalars(select(SearchSession.id).where(
        SearchSession.id.in_(ids), SearchSession.judged_at.is_not(None))))
    if not judged:
        return 0
    _take_turn()
    _forget(judged)
    db.session.execute(update(SearchSession).where(SearchSession.id.in_(judged))
                       .values(judged_at=None))
    return len(judged)


def rebuild(now: dt.datetime, zone: dt.tzinfo,
            progress: Callable[[int], object] | None = None) -> int:
    """Count every rollup again from the events (`portal report rollup`): every visit
    judged anew, in `zone`; how many visits were closed."""
    _take_turn()
    analytics_rollups.clear()
    feedback.forget_counts()
    db.session.execute(delete(GapDayQuery))
    db.session.execute(delete(GapDay))
    db.session.execute(delete(SearchVerdict))
    db.session.execute(delete(RollupState).where(RollupState.name == "zone"))
    db.session.execute(update(SearchSession).where(SearchSession.judged_at.is_not(None))
                       .values(judged_at=None))
    db.session.commit()
    closed = 0
    while True:
        done = close_visits(now, zone, limit=CLOSE_CHUNK)
        closed += done
        if progress is not None and done:
            progress(done)
        if not done:
            return closed
