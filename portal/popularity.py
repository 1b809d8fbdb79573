"""Which articles people open: daily view counters and the popular list."""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Iterable
from collections.abc import Mapping
from typing import Protocol

from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import SQLAlchemyError

from .extensions import db
from .models import ArticleViewDay

log = logging.getLogger(__name__)


def count_view(article_id: str, day: dt.date) -> None:
    """Add one view of an article on `day` to the database session (the caller commits)."""
    dialect = db.session.get_bind().dialect.name
    insert = pg_insert if dialect == "postgresql" else sqlite_insert
    statement = insert(ArticleViewDay).values(article_id=article_id, day=day, views=1)
    statement = statement.on_conflict_do_update(
        index_elements=["article_id", "day"], set_={"views": ArticleViewDay.views + 1})
    db.session.execute(statement)


def most_viewed(days: int, limit: int, today: dt.date | None = None) -> list[tuple[str, int]]:
    """Article ids with their views over the last `days` days, most viewed first."""
    since = (today or dt.date.today()) - dt.timedelta(days=days - 1)
    total = func.sum(ArticleViewDay.views).label("total")
    query = (select(ArticleViewDay.article_id, total)
             .where(ArticleViewDay.day >= since)
             .group_by(ArticleViewDay.article_id)
             .order_by(total.desc(), ArticleViewDay.article_id)
             .limit(limit))
    try:
        return [(row.article_id, int(row.total)) for row in db.session.execute(query)]
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("could not read popular articles")
        return []


class Listed(Protocol):
    """What choosing leading articles needs to know of one."""

    @property
    def id(self) -> str: ...
    @property
    def title(self) -> str: ...
    @property
    def category(self) -> str: ...


def leading_articles(articles: Iterable[Listed], categories: list[str],
                     links_in: Mapping[str, int], limit: int) -> list[Listed]:
    """What a new help center shows before anyone has read anything: the leading articles
    of the categories in their order, in turns (each category's first, then its second,
    ...). An article leads its category when more other articles link to it; then by title.
    """
    by_category: dict[str, list[Listed]] = {name: [] for name in categories}
    for article in articles:
        if article.category in by_category:
            by_category[article.category].append(article)
    for found in by_category.values():
        found.sort(key=lambda a: (-links_in.get(a.id, 0), a.title.lower()))
    chosen: list[Listed] = []
    turn = 0
    while len(chosen) < limit and any(len(found) > turn for found in by_category.values()):
        chosen.extend(found[turn] for found in by_category.values() if len(found) > turn)
        turn += 1
    return chosen[:limit]
