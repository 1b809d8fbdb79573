"""Which articles people open: daily view counters and the popular list."""

from __future__ import annotations

import datetime as dt
import logging

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
