"""Which searches failed, and the gaps they add up to.

A search **failed** when
- it had no results (``no_results``);
- no article found had every informative word of the query (``partial``: the knowledge
  base may not answer this question yet), unless an article opened from it was voted
  helpful;
- an article opened from its results was then voted unhelpful (``voted_no``);
- none of its results was opened, and the visitor searched again or the visit ended
  (``not_opened``);
- or the visit ended in a ticket after it (``ticket``) — unless an article opened from
  it was voted helpful: that search did its job, the ticket was about something else.

A search whose visit is still going, with nothing opened yet and nothing after it, is
*pending*: not counted either way until the visit ends. Each failed search also gets an
*outcome*, what the visitor finally did: ``ticket``, ``found_later`` (a later search
succeeded, or a later article was voted helpful or read for a while), ``left``, or
``pending`` while the visit goes on.

These are functions of the event history, computed when asked, so a late click or vote
changes the verdict of an earlier search, as it should.
"""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from typing import Any
from typing import TypedDict

from sqlalchemy import Row
from sqlalchemy import or_
from sqlalchemy import select

from ..extensions import db
from ..models import ArticleEvent
from ..models import SearchEvent
from ..models import SearchSession
from ..models import Ticket
from .events import SESSION_GAP

FAILURE_KINDS = ("no_results", "partial", "not_opened", "voted_no", "ticket")
OUTCOMES = ("ticket", "found_later", "left", "pending")
#: An article read at least this long counts as "found something" even without a vote.
READ_ENOUGH_MS = 30_000
_CHUNK = 500


@dataclass
class Visit:
    """Everything recorded in one session, in time order: read-only rows with the columns
    of `search_session`, `search_event` and `article_event` (not model instances)."""

    session: Row[Any]
    searches: list[Row[Any]]
    articles: list[Row[Any]]
    tickets: list[dt.datetime]

    def is_over(self, now: dt.datetime) -> bool:
        last_seen: dt.datetime = self.session.last_seen_at
        return now - last_seen > SESSION_GAP


@dataclass
class Verdict:
    """How one search went: its failure kind (None = it helped, or not decided yet)."""

    search: Row[Any]
    failure: str | None
    pending: bool
    outcome: str | None
    opened: list[Row[Any]]


def _last_vote(visit: Visit, article_id: str, after: dt.datetime) -> Row[Any] | None:
    votes = [e for e in visit.articles
             if e.kind == "vote" and e.article_id == article_id and e.at >= after]
    return votes[-1] if votes else None


def _helpful_read(visit: Visit, view: Row[Any]) -> bool | None:
    """True when the visitor said yes, False when no, None when they did not vote."""
    vote = _last_vote(visit, view.article_id, view.at)
    return None if vote is None else bool(vote.helpful)


def judge(visit: Visit, now: dt.datetime, ticket_at: dt.datetime | None = None) -> list[Verdict]:
    """A verdict for each search of the visit. `ticket_at` judges the visit as ending in a
    ticket at that moment (used while the ticket is being created)."""
    tickets = sorted(visit.tickets + ([ticket_at] if ticket_at else []))
    over = ticket_at is not None or visit.is_over(now)
    verdicts = []
    for position, search in enumerate(visit.searches):
        later = visit.searches[position + 1:]
        opened = [e for e in visit.articles if e.kind == "view" and e.search_id == search.id]
        votes = [_helpful_read(visit, view) for view in opened]
        ticket_after = any(t >= search.at for t in tickets)
        failure, pending = None, False
        if search.results == 0:
            failure = "no_results"
        elif search.partial and True not in votes:
            failure = "partial"
        elif False in votes:
            failure = "voted_no"
        elif not opened:
            if later or over or ticket_after:
                failure = "not_opened"
            else:
                pending = True
        elif ticket_after and True not in votes:
            failure = "ticket"
        outcome = _outcome(visit, search, tickets, over) if failure else None
        verdicts.append(Verdict(search, failure, pending, outcome, opened))
    return _with_later_successes(verdicts, visit, tickets, over)


def _outcome(visit: Visit, search: Row[Any], tickets: list[dt.datetime], over: bool) -> str:
    if any(t >= search.at for t in tickets):
        return "ticket"
    for view in visit.articles:
        if view.kind != "view" or view.at <= search.at or view.search_id == search.id:
            continue
        helpful = _helpful_read(visit, view)
        if helpful or (helpful is None and (view.dwell_ms or 0) >= READ_ENOUGH_MS):
            return "found_later"
    return "left" if over else "pending"


def _with_later_successes(verdicts: list[Verdict], visit: Visit, tickets: list[dt.datetime],
                          over: bool) -> list[Verdict]:
    """A failed search followed by a search that helped ended in "found something later"."""
    for position, verdict in enumerate(verdicts):
        if verdict.outcome in ("left", "pending") and any(
                v.failure is None and not v.pending and v.opened
                for v in verdicts[position + 1:]):
            verdict.outcome = "found_later"
    return verdicts


def load_visits(session_ids: Iterable[int]) -> list[Visit]:
    """The visits with these session ids, with their searches, article events and tickets."""
    ids = sorted(set(session_ids))
    visits: list[Visit] = []
    # Plain rows, not ORM objects: the report reads tens of thousands and changes none, and
    # building model instances for them took most of its time.
    sessions_table, searches_table = SearchSession.__table__, SearchEvent.__table__
    articles_table = ArticleEvent.__table__
    for start in range(0, len(ids), _CHUNK):
        chunk = ids[start:start + _CHUNK]
        sessions = db.session.execute(select(sessions_table)
                                      .where(sessions_table.c.id.in_(chunk))
                                      .order_by(sessions_table.c.id))
        searches: dict[int, list[Row[Any]]] = {}
        for row in db.session.execute(select(searches_table)
                                      .where(searches_table.c.session_id.in_(chunk))
                                      .order_by(searches_table.c.at, searches_table.c.id)):
            searches.setdefault(row.session_id, []).append(row)
        articles: dict[int, list[Row[Any]]] = {}
        for row in db.session.execute(select(articles_table)
                                      .where(articles_table.c.session_id.in_(chunk))
                                      .order_by(articles_table.c.at, articles_table.c.id)):
            articles.setdefault(row.session_id, []).append(row)
        # Keyed as the column is typed (nullable); the filter leaves only these sessions.
        tickets: dict[int | None, list[dt.datetime]] = {}
        for session_id, created in db.session.execute(
                select(Ticket.session_id, Ticket.created_at).where(Ticket.session_id.in_(chunk))):
            tickets.setdefault(session_id, []).append(created)
        for session in sessions:
            visits.append(Visit(session, searches.get(session.id, []),
                                articles.get(session.id, []), tickets.get(session.id, [])))
    return visits


def verdicts_since(since: dt.datetime, until: dt.datetime | None = None,
                   now: dt.datetime | None = None,
                   terms: Iterable[str] | None = None) -> list[Verdict]:
    """Verdicts for every search made in [since, until) — or, with `terms`, only for the
    visits with a search whose normalized form holds one of those stems."""
    now = now or dt.datetime.now(dt.UTC)
    until = until or now
    which = select(SearchEvent.session_id).where(SearchEvent.at >= since, SearchEvent.at < until)
    if terms is not None:
        terms = [t for t in terms if t]
        if not terms:
            return []
        which = which.where(or_(*[SearchEvent.normalized.contains(t, autoescape=True)
                                  for t in terms]))
    session_ids = db.session.scalars(which.distinct())
    found: list[Verdict] = []
    for visit in load_visits(session_ids):
        found.extend(v for v in judge(visit, now) if since <= v.search.at < until)
    return found


class GapData(TypedDict):
    """A gap as plain data, for the JSON API and the command line."""

    query: str
    normalized: str
    failures: int
    searches: int
    failure_rate: float
    first_seen: str | None
    last_seen: str | None
    samples: list[str]
    kinds: dict[str, int]
    outcomes: dict[str, int]
    ticket_ids: list[int]


@dataclass
class Gap:
    """Failed searches that ask the same thing (the same normalized form)."""

    normalized: str
    searches: int = 0
    failures: int = 0
    first_seen: dt.datetime | None = None
    last_seen: dt.datetime | None = None
    samples: list[str] = field(default_factory=list)
    kinds: dict[str, int] = field(default_factory=dict)
    outcomes: dict[str, int] = field(default_factory=dict)
    ticket_ids: list[int] = field(default_factory=list)

    @property
    def failure_rate(self) -> float:
        decided = self.searches
        return self.failures / decided if decided else 0.0

    @property
    def label(self) -> str:
        """How people put it: the most frequent way this was typed."""
        return self.samples[0] if self.samples else self.normalized

    def as_dict(self) -> GapData:
        return {
            "query": self.label,
            "normalized": self.normalized,
            "failures": self.failures,
            "searches": self.searches,
            "failure_rate": round(self.failure_rate, 4),
            "first_seen": self.first_seen.isoformat() if self.first_seen else None,
            "last_seen": self.last_seen.isoformat() if self.last_seen else None,
            "samples": self.samples,
            "kinds": self.kinds,
            "outcomes": self.outcomes,
            "ticket_ids": self.ticket_ids,
        }


def most_failed_first(gap: Gap) -> tuple[int, float, float, str]:
    """The report's order: the most failures, the highest rate, the latest, then by name."""
    assert gap.last_seen is not None  # a gap has a failure, which sets it
    return (-gap.failures, -gap.failure_rate, -gap.last_seen.timestamp(), gap.normalized)


def group_gaps(verdicts: Iterable[Verdict], tickets_by_session: Mapping[int, list[int]]
               | None = None, samples: int = 5) -> list[Gap]:
    """Group decided searches by normalized form; gaps with at least one failure, the
    most failures first."""
    gaps: dict[str, Gap] = {}
    typed: dict[str, Counter[str]] = {}
    for verdict in verdicts:
        if verdict.pending:
            continue
        search = verdict.search
        gap = gaps.setdefault(search.normalized, Gap(search.normalized))
        gap.searches += 1
        if verdict.failure is None:
            continue
        gap.failures += 1
        gap.first_seen = min(filter(None, [gap.first_seen, search.at]))
        gap.last_seen = max(filter(None, [gap.last_seen, search.at]))
        gap.kinds[verdict.failure] = gap.kinds.get(verdict.failure, 0) + 1
        assert verdict.outcome is not None  # `judge` gives each failed search an outcome
        gap.outcomes[verdict.outcome] = gap.outcomes.get(verdict.outcome, 0) + 1
        typed.setdefault(search.normalized, Counter())[search.query] += 1
        if verdict.outcome == "ticket" and tickets_by_session:
            for ticket_id in tickets_by_session.get(search.session_id, []):
                if ticket_id not in gap.ticket_ids:
                    gap.ticket_ids.append(ticket_id)
    found = [gap for gap in gaps.values() if gap.failures]
    for gap in found:
        counts = typed[gap.normalized]
        gap.samples = [q for q, _n in sorted(counts.items(), key=lambda kv: (-kv[1], kv[0]))]
        gap.samples = gap.samples[:samples]
    found.sort(key=most_failed_first)
    return found


def gaps(since: dt.datetime, until: dt.datetime | None = None, now: dt.datetime | None = None,
         limit: int | None = None) -> list[Gap]:
    """The gaps report: failed searches since `since`, grouped, most failures first."""
    verdicts = verdicts_since(since, until, now)
    found = group_gaps(verdicts, tickets_after(verdicts))
    return found[:limit] if limit else found


def tickets_after(verdicts: Iterable[Verdict]) -> dict[int, list[int]]:
    """The ids of the tickets of each session whose failed searches ended in a ticket."""
    return tickets_of({v.search.session_id for v in verdicts if v.outcome == "ticket"})


def tickets_of(session_ids: set[int]) -> dict[int, list[int]]:
    """The ids of the tickets of each of these sessions, oldest first."""
    ids = sorted(session_ids)
    tickets: dict[int, list[int]] = {}
    for start in range(0, len(ids), _CHUNK):
        for ticket_id, session_id in db.session.execute(
                select(Ticket.id, Ticket.session_id)
                .where(Ticket.session_id.in_(ids[start:start + _CHUNK])).order_by(Ticket.id)):
            assert session_id is not None  # the filter leaves only these sessions
            tickets.setdefault(session_id, []).append(ticket_id)
    return tickets


@dataclass
class Deflections:
    """Articles suggested on the ticket form that were opened: a deflection when no ticket
    followed in the same visit (the customer found the answer instead of writing)."""

    opened: int = 0
    deflected: int = 0
    by_article: dict[str, int] = field(default_factory=dict)


def deflections(since: dt.datetime, until: dt.datetime | None = None) -> Deflections:
    """Ticket-form suggestions opened in [since, until), and how many ended without a ticket."""
    until = until or dt.datetime.now(dt.UTC)
    views = db.session.execute(
        select(ArticleEvent.session_id, ArticleEvent.article_id, ArticleEvent.at)
        .where(ArticleEvent.kind == "view", ArticleEvent.via == "ticket_form",
               ArticleEvent.at >= since, ArticleEvent.at < until)).all()
    # Keyed as the column is typed (nullable); the filter leaves only these sessions.
    tickets: dict[int | None, list[dt.datetime]] = {}
    ids = sorted({row.session_id for row in views})
    for start in range(0, len(ids), _CHUNK):
        for session_id, created in db.session.execute(
                select(Ticket.session_id, Ticket.created_at)
                .where(Ticket.session_id.in_(ids[start:start + _CHUNK]))):
            tickets.setdefault(session_id, []).append(created)
    result = Deflections()
    for row in views:
        result.opened += 1
        if not any(created >= row.at for created in tickets.get(row.session_id, [])):
            result.deflected += 1
            result.by_article[row.article_id] = result.by_article.get(row.article_id, 0) + 1
    return result
