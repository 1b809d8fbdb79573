"""Analytics: the metrics of DESIGN.md over a period, per day or week, and as CSV tables.

The definitions (the analytics page says them in words):

- **zero-result rate**: searches that found nothing ÷ searches;
- **search click-through**: searches with at least one result opened ÷ searches;
- **self-service score**: help sessions (visits with a search or an article read) ÷ tickets
  created;
- **deflection**: of the visits that read an article, the share whose visitor opened no
  ticket within the window after the first article read; visits whose window is not over
  yet, and that have no ticket, are *pending* and not counted;
- **article helpfulness**: "yes" votes ÷ votes given or changed in the period;
- **most linked articles**: articles agents linked to tickets, and how often customers
  opened those links;
- **resolution articles**: tickets resolved (and still resolved or closed) per article;
- **response-time compliance**: public replies within the line's target ÷ replies that
  answered a waiting customer.

Articles opened from a link in a support reply are no self-service: they count neither as
help sessions nor as reads for deflection. Everything is counted in SQL, per bucket of the
support team's local days (a balanced CASE over the bucket edges, which SQLite and
PostgreSQL both run); only the few visits followed by a ticket are looked at in Python.
Knows no request: the caller passes the period, the article aliases and the window.
"""

from __future__ import annotations

import datetime as dt
import functools
import io
from collections.abc import Callable
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from dataclasses import field
from dataclasses import fields

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
from sqlalchemy import text
from sqlalchemy import type_coerce

from .extensions import db
from .feedback import REASONS
from .models import ArticleEvent
from .models import SearchEvent
from .models import SearchSession
from .models import Ticket
from .models import TicketEvent
from .models import TicketLink
from .models import UtcDateTime
from .models import Vote
from .spreadsheet import write_csv

#: The longest period shown at once (two years and a leap day).
MAX_DAYS = 731
#: Periods longer than this are shown per week rather than per day.
DAILY_UP_TO_DAYS = 92
#: No period starts before this date (older dates are typing mistakes).
EARLIEST = dt.date(2000, 1, 1)
PARTS = frozenset({"searches", "sessions", "tickets", "deflection", "votes", "links",
                   "resolutions", "responses"})
#: The "no" reason of a vote given without one.
NO_REASON = "none"


class PeriodError(ValueError):
    """A period that cannot be shown: `reversed`, `too_long`, `future` or `too_early`."""


@dataclass(frozen=True)
class Period:
    """Whole local days from `first` to `last` (both included) in `zone`, in buckets of
    `step` days (1 or 7) counted from `first`."""

    first: dt.date
    last: dt.date
    zone: dt.tzinfo
    step: int

    @property
    def days(self) -> int:
        return (self.last - self.first).days + 1

    @property
    def since(self) -> dt.datetime:
        return local_midnight(self.first, self.zone)

    @property
    def until(self) -> dt.datetime:
        return local_midnight(self.last + dt.timedelta(days=1), self.zone)

    def spans(self) -> list[tuple[dt.date, dt.date]]:
        """The first and last day of each bucket."""
        starts = range(0, self.days, self.step)
        return [(self.first + dt.timedelta(days=n),
                 min(self.first + dt.timedelta(days=n + self.step - 1), self.last))
                for n in starts]

    def edges(self) -> list[dt.datetime]:
        """The UTC moments where buckets begin, then the end of the period."""
        return ([local_midnight(first, self.zone) for first, _last in self.spans()]
                + [self.until])


def local_midnight(day: dt.date, zone: dt.tzinfo) -> dt.datetime:
    """The moment `day` begins in `zone`, in UTC."""
    return dt.datetime.combine(day, dt.time(), tzinfo=zone).astimezone(dt.UTC)


def between(first: dt.date, last: dt.date, now: dt.datetime, zone: dt.tzinfo) -> Period:
    """The local days from `first` to `last`; a reversed, future or too long range raises
    `PeriodError`."""
    today = now.astimezone(zone).date()
    if first > last:
        raise PeriodError("reversed")
    if first < EARLIEST:
        raise PeriodError("too_early")
    if last > today:
        raise PeriodError("future")
    if (last - first).days + 1 > MAX_DAYS:
        raise PeriodError("too_long")
    step = 1 if (last - first).days + 1 <= DAILY_UP_TO_DAYS else 7
    return Period(first, last, zone, step)


def last_days(days: int, now: dt.datetime, zone: dt.tzinfo) -> Period:
    """Today and the `days - 1` days before it, in the team's time zone."""
    if not 1 <= days <= MAX_DAYS:
        raise PeriodError("too_long")
    today = now.astimezone(zone).date()
    return between(today - dt.timedelta(days=days - 1), today, now, zone)


# --- What is counted ---------------------------------------------------------------------


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


@dataclass
class Counts:
    """The numbers behind the rates, for one bucket or the whole period."""

    searches: int = 0
    zero_results: int = 0
    clicked: int = 0
    help_sessions: int = 0
    tickets: int = 0
    read_sessions: int = 0
    deflected: int = 0
    votes: int = 0
    helpful: int = 0
    responses: int = 0
    on_time: int = 0

    @property
    def zero_result_rate(self) -> float | None:
        return _share(self.zero_results, self.searches)

    @property
    def click_through(self) -> float | None:
        return _share(self.clicked, self.searches)

    @property
    def self_service(self) -> float | None:
        return _share(self.help_sessions, self.tickets)

    @property
    def deflection(self) -> float | None:
        return _share(self.deflected, self.read_sessions)

    @property
    def helpfulness(self) -> float | None:
        return _share(self.helpful, self.votes)

    @property
    def compliance(self) -> float | None:
        return _share(self.on_time, self.responses)

    def add(self, other: Counts) -> None:
        for name in (f.name for f in fields(Counts)):
            setattr(self, name, getattr(self, name) + getattr(other, name))


@dataclass
class Bucket(Counts):
    """One day (or week) of the period."""

    first: dt.date = dt.date.min
    last: dt.date = dt.date.min


@dataclass
class ArticleVotes:
    """"Did this help?" answers on one article, with the reasons of the "no"s."""

    article_id: str
    votes: int = 0
    helpful: int = 0
    reasons: dict[str, int] = field(default_factory=dict)

    @property
    def not_helpful(self) -> int:
        return self.votes - self.helpful

    @property
    def helpfulness(self) -> float | None:
        return _share(self.helpful, self.votes)


@dataclass
class ArticleLinks:
    """How often agents linked one article to tickets, and customers opened those links."""

    article_id: str
    links: int = 0
    opens: int = 0
    opened: int = 0


@dataclass
class ArticleResolutions:
    """Tickets resolved with one article."""

    article_id: str
    tickets: int = 0


@dataclass
class LineResponses:
    """Replies that answered a waiting customer on one support line."""

    line: int
    responses: int = 0
    on_time: int = 0
    waited_s: int = 0

    @property
    def late(self) -> int:
        return self.responses - self.on_time

    @property
    def compliance(self) -> float | None:
        return _share(self.on_time, self.responses)

    @property
    def average_wait_s(self) -> float | None:
        return self.waited_s / self.responses if self.responses else None


@dataclass
class Report:
    """Every metric of the period: per bucket, in total, and the per-article tables."""

    period: Period
    window: dt.timedelta
    buckets: list[Bucket]
    totals: Counts = field(default_factory=Counts)
    #: Visits that read an article, with no ticket yet, whose window is not over.
    pending_sessions: int = 0
    articles: list[ArticleVotes] = field(default_factory=list)
    reasons: dict[str, int] = field(default_factory=dict)
    links: list[ArticleLinks] = field(default_factory=list)
    resolutions: list[ArticleResolutions] = field(default_factory=list)
    resolved: int = 0
    lines: list[LineResponses] = field(default_factory=list)


def build_report(period: Period, aliases: Mapping[str, str], window: dt.timedelta,
                 now: dt.datetime, parts: Iterable[str] = PARTS) -> Report:
    """The metrics of `period` (only the `parts` asked for); `aliases` maps old article ids
    to current ones, `window` is how long after reading a ticket undoes a deflection."""
    report = Report(period, window, [Bucket(first=a, last=b) for a, b in period.spans()])
    edges = period.edges()
    if db.session.get_bind().dialect.name == "postgresql":
        # These scans look costly to the planner, which then compiles them to machine code
        # first: that alone took longer (0.1-0.4 s) than running them.
        db.session.execute(text("SET LOCAL jit = off"))
    parts = set(parts)
    for part, count in _SECTIONS.items():
        if part in parts:
            count(report, edges, aliases, now)
    for bucket in report.buckets:
        report.totals.add(bucket)
    return report


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


def _searches(report: Report, edges, _aliases, _now) -> None:
    # A result is opened after its search, so views since the period began are enough; one
    # set of them (not a lookup per search) is what both databases do fastest.
    opened = select(ArticleEvent.search_id).where(
        ArticleEvent.kind == "view", ArticleEvent.search_id.is_not(None),
        ArticleEvent.at >= edges[0])
    rows = db.session.execute(
        select(_bucket(SearchEvent.at, len(edges) - 1), func.count(),
               _count_if(SearchEvent.results == 0), _count_if(SearchEvent.id.in_(opened)))
        .where(_within(SearchEvent.at, edges)).group_by(_BY_BUCKET), _edges(edges))
    for index, searches, zero, clicked in rows:
        bucket = report.buckets[index]
        bucket.searches, bucket.zero_results, bucket.clicked = searches, zero, clicked


def _self_help_views(edges):
    """Article views in the period that were not opened from a support reply."""
    return (ArticleEvent.kind == "view", ArticleEvent.via != "agent_link",
            _within(ArticleEvent.at, edges))


def _sessions(report: Report, edges, _aliases, _now) -> None:
    """Help sessions, each in the bucket of the day it began (visits that began before the
    period, in its first bucket)."""
    searched = select(SearchEvent.session_id).where(_within(SearchEvent.at, edges))
    read = select(ArticleEvent.session_id).where(*_self_help_views(edges))
    rows = db.session.execute(
        select(_bucket(SearchSession.started_at, len(edges) - 1), func.count())
        .where(SearchSession.last_seen_at >= edges[0], SearchSession.started_at < edges[-1],
               SearchSession.id.in_(searched) | SearchSession.id.in_(read))
        .group_by(_BY_BUCKET), _edges(edges))
    for index, sessions in rows:
        report.buckets[index].help_sessions = sessions


def _tickets(report: Report, edges, _aliases, _now) -> None:
    rows = db.session.execute(select(_bucket(Ticket.created_at, len(edges) - 1), func.count())
                              .where(_within(Ticket.created_at, edges)).group_by(_BY_BUCKET),
                              _edges(edges))
    for index, tickets in rows:
        report.buckets[index].tickets = tickets


def _deflection(report: Report, edges, _aliases, now: dt.datetime) -> None:
    """Visits that read an article, by their first read; a visit is decided once its window
    is over or a ticket came within it."""
    reads = (select(ArticleEvent.session_id, func.min(ArticleEvent.at).label("first_at"))
             .where(*_self_help_views(edges)).group_by(ArticleEvent.session_id).subquery())
    matured_before = now - report.window
    for index, visits, matured in db.session.execute(
            select(_bucket(_FIRST_AT, len(edges) - 1), func.count(),
                   _count_if(reads.c.first_at < matured_before))
            .select_from(reads).group_by(_BY_BUCKET), _edges(edges)):
        bucket = report.buckets[index]
        bucket.read_sessions = bucket.deflected = matured
        report.pending_sessions += visits - matured
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


def _votes(report: Report, edges, aliases: Mapping[str, str], _now) -> None:
    for index, votes, helpful in db.session.execute(
            select(_bucket(Vote.updated_at, len(edges) - 1), func.count(),
                   _count_if(Vote.helpful))
            .where(_within(Vote.updated_at, edges)).group_by(_BY_BUCKET), _edges(edges)):
        report.buckets[index].votes, report.buckets[index].helpful = votes, helpful
    articles: dict[str, ArticleVotes] = {}
    for article_id, helpful, reason, votes in db.session.execute(
            select(Vote.article_id, Vote.helpful, Vote.reason, func.count())
            .where(_within(Vote.updated_at, edges))
            .group_by(Vote.article_id, Vote.helpful, Vote.reason)):
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


_SECTIONS: dict[str, Callable] = {
    "searches": _searches, "sessions": _sessions, "tickets": _tickets,
    "deflection": _deflection, "votes": _votes, "links": _links,
    "resolutions": _resolutions, "responses": _responses,
}


# --- Tables (the CSV downloads) ----------------------------------------------------------


@dataclass
class Table:
    """One table of the page: a header row and the rows under it."""

    name: str
    columns: list[str]
    rows: list[list]


def _rate(value: float | None) -> float | str:
    return "" if value is None else round(value, 4)


_METRICS = (
    ("zero_result_rate", "zero_results", "searches"),
    ("click_through", "clicked", "searches"),
    ("self_service_score", "help_sessions", "tickets"),
    ("deflection", "deflected", "read_sessions"),
    ("helpfulness", "helpful", "votes"),
    ("response_compliance", "on_time", "responses"),
)
_RATE_OF = {"zero_result_rate": "zero_result_rate", "click_through": "click_through",
            "self_service_score": "self_service", "deflection": "deflection",
            "helpfulness": "helpfulness", "response_compliance": "compliance"}


def metric_values(counts: Counts) -> list[tuple[str, float | None, int, int]]:
    """(metric, value, numerator, denominator) for each rate of `counts`."""
    return [(name, getattr(counts, _RATE_OF[name]), getattr(counts, part),
             getattr(counts, whole)) for name, part, whole in _METRICS]


def _summary(report: Report, _titles) -> Table:
    rows = [[name, _rate(value), part, whole]
            for name, value, part, whole in metric_values(report.totals)]
    return Table("summary", ["metric", "value", "numerator", "denominator"], rows)


_TREND_COLUMNS = ["searches", "zero_results", "zero_result_rate", "clicked", "click_through",
                  "help_sessions", "tickets", "self_service_score", "read_sessions",
                  "deflected", "deflection", "votes", "helpful", "helpfulness", "responses",
                  "on_time", "response_compliance"]


def _trend(report: Report, _titles) -> Table:
    rows = []
    for bucket in report.buckets:
        rates = {name: _rate(value) for name, value, _p, _w in metric_values(bucket)}
        rows.append([bucket.first.isoformat(), bucket.last.isoformat()]
                    + [rates[c] if c in rates else getattr(bucket, c) for c in _TREND_COLUMNS])
    return Table("trend", ["first_day", "last_day", *_TREND_COLUMNS], rows)


def _reason_names(report: Report) -> list[str]:
    extra = sorted(set(report.reasons) - set(REASONS))
    return [*REASONS, *extra]


def _helpfulness(report: Report, titles: Mapping[str, str]) -> Table:
    reasons = _reason_names(report)
    rows = [[a.article_id, titles.get(a.article_id, ""), a.votes, a.helpful, a.not_helpful,
             _rate(a.helpfulness), *[a.reasons.get(r, 0) for r in reasons]]
            for a in report.articles]
    return Table("helpfulness", ["article", "title", "votes", "helpful", "not_helpful",
                                 "helpfulness", *[f"no_{r}" for r in reasons]], rows)


def _reasons(report: Report, _titles) -> Table:
    return Table("reasons", ["reason", "votes"], [[r, n] for r, n in report.reasons.items()])


def _linked(report: Report, titles: Mapping[str, str]) -> Table:
    rows = [[a.article_id, titles.get(a.article_id, ""), a.links, a.opened, a.opens]
            for a in report.links]
    return Table("linked", ["article", "title", "links", "links_opened", "opens"], rows)


def _resolution_table(report: Report, titles: Mapping[str, str]) -> Table:
    rows = [[a.article_id, titles.get(a.article_id, ""), a.tickets] for a in report.resolutions]
    return Table("resolutions", ["article", "title", "tickets"], rows)


def _response_table(report: Report, _titles) -> Table:
    rows = [[entry.line, entry.responses, entry.on_time, entry.late, _rate(entry.compliance),
             "" if entry.average_wait_s is None else round(entry.average_wait_s / 60, 1)]
            for entry in report.lines]
    return Table("responses", ["line", "responses", "on_time", "late", "compliance",
                               "average_wait_minutes"], rows)


_BUCKET_PARTS = frozenset({"searches", "sessions", "tickets", "deflection", "votes",
                           "responses"})
#: Each downloadable table: the parts of the report it needs, and how it is made.
TABLES: dict[str, tuple[frozenset[str], Callable[[Report, Mapping[str, str]], Table]]] = {
    "summary": (_BUCKET_PARTS, _summary),
    "trend": (_BUCKET_PARTS, _trend),
    "helpfulness": (frozenset({"votes"}), _helpfulness),
    "reasons": (frozenset({"votes"}), _reasons),
    "linked": (frozenset({"links"}), _linked),
    "resolutions": (frozenset({"resolutions"}), _resolution_table),
    "responses": (frozenset({"responses"}), _response_table),
}


def table(name: str, period: Period, aliases: Mapping[str, str], window: dt.timedelta,
          now: dt.datetime, titles: Mapping[str, str]) -> Table:
    """One table of the page, computing only what it needs (KeyError: no such table)."""
    parts, make = TABLES[name]
    return make(build_report(period, aliases, window, now, parts), titles)


def csv_text(found: Table) -> str:
    """The table as CSV, with a header row, safe to open in a spreadsheet."""
    out = io.StringIO()
    write_csv(out, found.columns, found.rows)
    return out.getvalue()
