"""The figures the expert's list of articles shows beside each one: views, helpfulness and
when it last changed; and the orders it can be sorted in."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import select

from ..extensions import db
from ..models import ArticleRevision
from ..models import ArticleViewDay
from ..models import Vote
from ..search import ArticleInfo

#: Views are counted over this many days, as the column says.
VIEW_DAYS = 30
#: The columns the list can be sorted by.
SORTS = ("title", "views", "helpfulness", "updated")


@dataclass(frozen=True)
class ArticleFigures:
    """One article's figures: views in the last `VIEW_DAYS` days, its "Did this help?"
    votes and "yes" answers, and when its text last changed (None: unknown)."""

    views: int = 0
    votes: int = 0
    helpful: int = 0
    updated_at: dt.datetime | None = None

    @property
    def helpfulness(self) -> float | None:
        """Yes ÷ votes, or None without votes."""
        return self.helpful / self.votes if self.votes else None


def figures(root: Path, article_ids: Iterable[str],
            today: dt.date | None = None) -> dict[str, ArticleFigures]:
    """The figures of each article: three grouped queries, then the files' modification
    times for articles without a revision yet."""
    ids = list(article_ids)
    since = (today or dt.date.today()) - dt.timedelta(days=VIEW_DAYS - 1)
    views = {row[0]: int(row[1] or 0) for row in db.session.execute(
        select(ArticleViewDay.article_id, func.sum(ArticleViewDay.views))
        .where(ArticleViewDay.day >= since).group_by(ArticleViewDay.article_id))}
    votes = {row[0]: (int(row[1]), int(row[2] or 0)) for row in db.session.execute(
        select(Vote.article_id, func.count(Vote.id),
               func.sum(case((Vote.helpful.is_(True), 1), else_=0)))
        .group_by(Vote.article_id))}
    changed: dict[str, dt.datetime] = {row[0]: row[1] for row in db.session.execute(
        select(ArticleRevision.article_id, func.max(ArticleRevision.created_at))
        .where(ArticleRevision.state == "applied")
        .group_by(ArticleRevision.article_id))}
    found = {}
    for article_id in ids:
        counted, yes = votes.get(article_id, (0, 0))
        found[article_id] = ArticleFigures(
            views=views.get(article_id, 0), votes=counted, helpful=yes,
            updated_at=_aware(changed.get(article_id)) or _modified(root, article_id))
    return found


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    if moment is not None and moment.tzinfo is None:
        return moment.replace(tzinfo=dt.UTC)
    return moment


def _modified(root: Path, article_id: str) -> dt.datetime | None:
    try:
        stamp = (root / f"{article_id}.md").stat().st_mtime
    except OSError:
        return None
    return dt.datetime.fromtimestamp(stamp, dt.UTC)


_OLDEST = dt.datetime.min.replace(tzinfo=dt.UTC)


def sort_key(sort: str, title: str, shown: ArticleFigures) -> tuple[object, ...]:
    """How an article sorts by `sort` ascending; articles with nothing to show (no votes,
    an unknown date) sort below every other in either direction (see `sorted_articles`)."""
    if sort == "views":
        return (shown.views, title.casefold())
    if sort == "helpfulness":
        return (shown.helpfulness if shown.helpfulness is not None else -1.0, shown.votes,
                title.casefold())
    if sort == "updated":
        return (shown.updated_at or _OLDEST, title.casefold())
    return (title.casefold(),)


def sorted_articles(items: Iterable[ArticleInfo], sort: str, descending: bool,
                    figures_of: Mapping[str, ArticleFigures]) -> list[ArticleInfo]:
    """`items` ordered by `sort`; without votes or a date an article goes last whichever way
    the column is sorted, as help-center consoles do with empty cells."""
    def shown(info: ArticleInfo) -> ArticleFigures:
        return figures_of.get(info.id) or ArticleFigures()

    def empty(info: ArticleInfo) -> bool:
        return ((sort == "helpfulness" and shown(info).helpfulness is None)
                or (sort == "updated" and shown(info).updated_at is None))

    listed = list(items)
    full = sorted((i for i in listed if not empty(i)),
                  key=lambda i: sort_key(sort, i.title, shown(i)), reverse=descending)
    return full + sorted((i for i in listed if empty(i)), key=lambda i: i.title.casefold())
