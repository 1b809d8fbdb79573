"""Database rows. Articles live on disk; what people do lives here."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Date
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column

from .extensions import db


class ArticleViewDay(db.Model):
    """How many times an article was opened on one day (for "popular articles")."""

    __tablename__ = "article_view_day"

    article_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    views: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
