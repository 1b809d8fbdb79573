"""The analytics rollups: what each judged visit adds to the days of the team.

When a visit closes (`tracking.verdicts.close_visits`, the job that also judges its
searches for the gaps), `add_visits` stores one `analytics_visit_day` row per local day the
visit searched or read an article on its own: its searches, those that found nothing,
those with a result opened, and its first read that day. Their sums are kept in
`analytics_day` (per day) and `analytics_sessions` (per first day, first and last day of
help). A visit opened again (`verdicts.reopen`) is taken out with `take_away`, from its
stored rows, so the sums stay exact. The report (`counts.build_report`) adds these up and
counts the visits not judged yet from raw events.

The definitions are the raw report's (`counts`): a read is a view not opened from a
support reply; a search is clicked when some view names it.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from collections.abc import Sequence
from typing import Any

from sqlalchemy import delete
from sqlalchemy import insert
from sqlalchemy import select
from sqlalchemy.dialects import postgresql
from sqlalchemy.dialects import sqlite

from ..extensions import db
from ..models import AnalyticsDay
from ..models import AnalyticsSessions
from ..models import AnalyticsVisitDay
from ..models import ArticleEvent
from ..models import SearchEvent

#: Views reached this way are no self-service (see the package's definitions).
NOT_SELF_HELP = "agent_link"
DAY_COUNTS = ("searches", "zero_results", "clicked")
_CHUNK = 500


def is_self_help_view(kind: str, via: str) -> bool:
    """A view the visitor found on their own (not a link in a support reply)."""
    return kind == "view" and via != NOT_SELF_HELP


def _upsert(model: Any) -> Any:
    dialect = db.session.get_bind().dialect.name
    return (postgresql.insert if dialect == "postgresql" else sqlite.insert)(model.__table__)


def _clicked(session_ids: list[int]) -> set[int]:
    """The searches of these visits that some view names (from any visit: a result opened
    later counts too)."""
    found: set[int] = set()
    for start in range(0, len(session_ids), _CHUNK):
        theirs = select(SearchEvent.id).where(
            SearchEvent.session_id.in_(session_ids[start:start + _CHUNK]))
        found.update(db.session.scalars(
            select(ArticleEvent.search_id).distinct()
            .where(ArticleEvent.search_id.in_(theirs), ArticleEvent.kind == "view")))
    return found


def _days_of(visit: Any, zone: dt.tzinfo, clicked: set[int]) -> list[dict[str, Any]]:
    """One visit's rows: per local day it searched or read on its own."""
    session = visit.session
    days: dict[dt.date, dict[str, Any]] = {}
    started = session.started_at.astimezone(zone).date()

    def day_of(at: dt.datetime) -> dict[str, Any]:
        day = at.astimezone(zone).date()
        if day not in days:
            days[day] = {"session_id": session.id, "day": day,
                         "visitor_id": session.visitor_id, "started_day": started,
                         "searches": 0, "zero_results": 0, "clicked": 0,
                         "read_at": None, "first_read_at": None, "later_read": False}
        return days[day]

    for search in visit.searches:
        row = day_of(search.at)
        row["searches"] += 1
        row["zero_results"] += search.results == 0
        row["clicked"] += search.id in clicked
    for event in visit.articles:
        if is_self_help_view(event.kind, event.via):
            row = day_of(event.at)
            if row["read_at"] is None or event.at < row["read_at"]:
                row["read_at"] = event.at
    read_days = [day for day, row in days.items() if row["read_at"] is not None]
    for day in read_days:
        if day == min(read_days):
            days[day]["first_read_at"] = days[day]["read_at"]
        else:
            days[day]["later_read"] = True
    return [days[day] for day in sorted(days)]


def visit_days(visits: Iterable[Any], zone: dt.tzinfo) -> list[dict[str, Any]]:
    """The `analytics_visit_day` rows of these visits (`tracking.analysis.Visit`s)."""
    visits = list(visits)
    clicked = _clicked([v.session.id for v in visits])
    return [row for visit in visits for row in _days_of(visit, zone, clicked)]


def _sums(rows: Sequence[Any]) -> tuple[dict[dt.date, Counter[str]],
                                        Counter[tuple[dt.date, dt.date, dt.date]]]:
    """What these visit days add to `analytics_day` and `analytics_sessions`."""
    days: dict[dt.date, Counter[str]] = {}
    visits: dict[int, list[Any]] = {}
    for row in rows:
        counts = days.setdefault(row["day"], Counter())
        counts.update({name: row[name] for name in DAY_COUNTS})
        counts["reads"] += row["first_read_at"] is not None
        visits.setdefault(row["session_id"], []).append(row)
    sessions: Counter[tuple[dt.date, dt.date, dt.date]] = Counter()
    for own in visits.values():
        helped = [r["day"] for r in own]
        sessions[(own[0]["started_day"], min(helped), max(helped))] += 1
    return days, sessions


def _apply(rows: Sequence[Any], sign: int) -> None:
    days, sessions = _sums(rows)
    names = (*DAY_COUNTS, "reads")
    if days:
        statement = _upsert(AnalyticsDay)
        table = AnalyticsDay.__table__
        statement = statement.on_conflict_do_update(
            index_elements=["day"],
            set_={name: table.c[name] + statement.excluded[name] for name in names})
        db.session.execute(statement, [{"day": day, **{n: sign * counts[n] for n in names}}
                                       for day, counts in sorted(days.items())])
    if sessions:
        statement = _upsert(AnalyticsSessions)
        statement = statement.on_conflict_do_update(
            index_elements=["started_day", "first_day", "last_day"],
            set_={"sessions": AnalyticsSessions.__table__.c.sessions
                  + statement.excluded.sessions})
        db.session.execute(statement, [
            {"started_day": started, "first_day": first, "last_day": last,
             "sessions": sign * n} for (started, first, last), n in sorted(sessions.items())])


def add_visits(visits: Iterable[Any], zone: dt.tzinfo) -> None:
    """Count these judged visits in the rollups (in the caller's transaction, which holds
    the rollups' turn)."""
    rows = visit_days(visits, zone)
    if rows:
        db.session.execute(insert(AnalyticsVisitDay.__table__), rows)
        _apply(rows, 1)


def take_away(session_ids: list[int]) -> None:
    """Take these visits out of the rollups, as they were counted (in the caller's
    transaction, which holds the rollups' turn)."""
    table = AnalyticsVisitDay.__table__
    rows = []
    for start in range(0, len(session_ids), _CHUNK):
        chunk = session_ids[start:start + _CHUNK]
        rows.extend(r._asdict() for r in db.session.execute(
            select(table).where(table.c.session_id.in_(chunk))))
        db.session.execute(delete(table).where(table.c.session_id.in_(chunk)))
    if rows:
        _apply(rows, -1)


def clear() -> None:
    """Forget every visit counted (before counting them all again)."""
    db.session.execute(delete(AnalyticsSessions))
    db.session.execute(delete(AnalyticsDay))
    db.session.execute(delete(AnalyticsVisitDay))

