"""What analytics count, as plain records: the numbers behind each rate, per bucket and in
total, and the per-article and per-line tables of a report."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from dataclasses import field
from dataclasses import fields

from .periods import Period

#: The "no" reason of a vote given without one.
NO_REASON = "none"


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

    @property
    def empty(self) -> bool:
        """Nothing happened: no search, visit, ticket, vote or response."""
        return not any(getattr(self, f.name) for f in fields(Counts))

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
