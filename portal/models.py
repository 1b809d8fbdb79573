"""Database rows. Articles live on disk; what people do lives here."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import Boolean
from sqlalchemy import Date
from sqlalchemy import DateTime
from sqlalchemy import Float
from sqlalchemy import ForeignKey
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import TypeDecorator
from sqlalchemy import UniqueConstraint
from sqlalchemy.orm import Mapped
from sqlalchemy.orm import mapped_column
from sqlalchemy.orm import relationship

from .extensions import db


class UtcDateTime(TypeDecorator):
    """A moment in time, stored in UTC and always read back timezone-aware (SQLite keeps
    no offset, so without this it would hand back naive datetimes)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is not None:
            if value.tzinfo is None:
                raise ValueError("naive datetime: pass an aware one (UTC)")
            value = value.astimezone(dt.UTC)
            if dialect.name == "sqlite":
                value = value.replace(tzinfo=None)
        return value

    def process_result_value(self, value, dialect):
        if value is not None and value.tzinfo is None:
            value = value.replace(tzinfo=dt.UTC)
        return value


class ArticleViewDay(db.Model):
    """How many times an article was opened on one day (for "popular articles")."""

    __tablename__ = "article_view_day"

    article_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    views: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class Vote(db.Model):
    """A visitor's answer to "Did this help?" for one article; changeable, one per pair."""

    __tablename__ = "vote"
    __table_args__ = (UniqueConstraint("visitor_id", "article_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visitor_id: Mapped[str] = mapped_column(String(64), nullable=False)
    article_id: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    helpful: Mapped[bool] = mapped_column(Boolean, nullable=False)
    reason: Mapped[str | None] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)


class SearchSession(db.Model):
    """One visit of one visitor: events less than 30 minutes apart share a session."""

    __tablename__ = "search_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visitor_id: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    started_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False,
                                                      index=True)
    #: The first page of the visit and where the visitor came from (another site, a mail).
    entry_page: Mapped[str | None] = mapped_column(String(500))
    referrer: Mapped[str | None] = mapped_column(String(500))


class SearchEvent(db.Model):
    """One search as the visitor typed it (personal data masked) and what it returned."""

    __tablename__ = "search_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: A random public id carried by result links, so a click names its search.
    uid: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("search_session.id", ondelete="CASCADE"),
                                            nullable=False, index=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False, index=True)
    query: Mapped[str] = mapped_column(String(400), nullable=False)
    normalized: Mapped[str] = mapped_column(String(400), nullable=False, index=True)
    corrected: Mapped[str | None] = mapped_column(String(400))
    correction: Mapped[str | None] = mapped_column(String(64))
    results: Mapped[int] = mapped_column(Integer, nullable=False)
    latency_ms: Mapped[float] = mapped_column(Float, nullable=False)
    lang: Mapped[str | None] = mapped_column(String(8))
    category: Mapped[str | None] = mapped_column(String(100))
    #: Where it was typed: the results page, the API, the ticket form's subject.
    source: Mapped[str] = mapped_column(String(16), nullable=False, default="page")
    #: Shorter queries typed on the way to this one and folded into it.
    replaced: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class ArticleEvent(db.Model):
    """Something a visitor did with an article: opened it (from a search result or not),
    stayed on it, voted on it."""

    __tablename__ = "article_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    uid: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("search_session.id", ondelete="CASCADE"),
                                            nullable=False, index=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False, index=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # view | vote
    article_id: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    #: For a view opened from a results list: that search and the result's rank (1-based).
    search_id: Mapped[int | None] = mapped_column(
        ForeignKey("search_event.id", ondelete="SET NULL"), index=True)
    rank: Mapped[int | None] = mapped_column(Integer)
    #: How the article was reached: search, suggest, ticket_form, agent_link, direct.
    via: Mapped[str] = mapped_column(String(16), nullable=False, default="direct")
    dwell_ms: Mapped[int | None] = mapped_column(Integer)
    helpful: Mapped[bool | None] = mapped_column(Boolean)
    reason: Mapped[str | None] = mapped_column(String(32))


class Ticket(db.Model):
    """A customer's request to line 1, with the search trail that came before it."""

    __tablename__ = "ticket"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    number: Mapped[str | None] = mapped_column(String(32), unique=True)
    #: sha256 of the private status token; the token itself is only ever in the link.
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    email: Mapped[str] = mapped_column(String(320), nullable=False, index=True)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    description: Mapped[str] = mapped_column(Text, nullable=False)
    category: Mapped[str | None] = mapped_column(String(100))
    guessed_category: Mapped[str | None] = mapped_column(String(100))
    version: Mapped[str | None] = mapped_column(String(100))
    os: Mapped[str | None] = mapped_column(String(100))
    occurred_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    error_text: Mapped[str | None] = mapped_column(Text)
    urgency: Mapped[str] = mapped_column(String(16), nullable=False)
    priority: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    priority_reasons: Mapped[str | None] = mapped_column(String(400))
    mass_incident: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, index=True)
    line: Mapped[int] = mapped_column(Integer, nullable=False, default=1)
    lang: Mapped[str] = mapped_column(String(8), nullable=False)
    visitor_id: Mapped[str | None] = mapped_column(String(64), index=True)
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("search_session.id", ondelete="SET NULL"), index=True)
    source_page: Mapped[str | None] = mapped_column(String(500))
    #: The search trail as it was when the ticket was sent (JSON).
    trail: Mapped[str] = mapped_column(Text, nullable=False, default="{}")
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False,
                                                    index=True)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    #: When the customer may expect the first answer, in business time.
    answer_due_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    messages: Mapped[list[TicketMessage]] = relationship(
        back_populates="ticket", order_by="TicketMessage.id", cascade="all, delete-orphan")


class TicketMessage(db.Model):
    """A message on a ticket: the customer's, a public reply, an internal note or an event."""

    __tablename__ = "ticket_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"),
                                           nullable=False, index=True)
    author: Mapped[str] = mapped_column(String(16), nullable=False)  # customer | staff | system
    author_name: Mapped[str | None] = mapped_column(String(200))
    body: Mapped[str] = mapped_column(Text, nullable=False)
    public: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)

    ticket: Mapped[Ticket] = relationship(back_populates="messages")


class OutboxMessage(db.Model):
    """Mail or a webhook call, written in the same transaction as its cause and sent after."""

    __tablename__ = "outbox_message"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # mail | webhook
    #: What to send, as JSON: recipient, subject and text for mail; the body for a webhook.
    payload: Mapped[str] = mapped_column(Text, nullable=False)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket.id", ondelete="SET NULL"), index=True)
    status: Mapped[str] = mapped_column(String(16), nullable=False, index=True)  # pending|sent|dead
    attempts: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False,
                                                         index=True)
    #: A sender claims a message until this time, so two processes never send it twice.
    locked_until: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_error: Mapped[str | None] = mapped_column(String(1000))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    sent_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
