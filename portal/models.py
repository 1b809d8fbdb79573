"""Database rows. Articles live on disk; what people do lives here."""

from __future__ import annotations

import datetime as dt

from flask_login import UserMixin
from sqlalchemy import Boolean
from sqlalchemy import Date
from sqlalchemy import DateTime
from sqlalchemy import Float
from sqlalchemy import ForeignKey
from sqlalchemy import Index
from sqlalchemy import Integer
from sqlalchemy import String
from sqlalchemy import Text
from sqlalchemy import TypeDecorator
from sqlalchemy import UniqueConstraint
from sqlalchemy import false
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

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    visitor_id: Mapped[str] = mapped_column(String(64), nullable=False)
    article_id: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    helpful: Mapped[bool] = mapped_column(Boolean, nullable=False)
    reason: Mapped[str | None] = mapped_column(String(32))
    comment: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    updated_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    #: An expert dealt with a "no" vote in the inbox (cleared when the visitor votes again).
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"))
    close_note: Mapped[str | None] = mapped_column(Text)
    #: The local day whose `vote_day` row counts this vote as it is now (None: not counted
    #: there, read from this row; a changed vote is taken out of its day and waits again).
    counted_day: Mapped[dt.date | None] = mapped_column(Date)

    __table_args__ = (UniqueConstraint("visitor_id", "article_id"),
                      Index("ix_vote_counted_day_updated_at", "counted_day", "updated_at"))


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
    #: When the visit's searches were judged for good (None while it may still change).
    judged_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    __table_args__ = (Index("ix_search_session_judged_at_last_seen_at", "judged_at",
                            "last_seen_at"),)


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
    #: No article found had every informative word of the query (see the search engine).
    partial: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False,
                                          server_default=false())
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
    #: sha256 of the key of the form (or API call) that sent it: the same key sent again
    #: (Back and send, a double click, a retried request) finds this ticket, not a new one.
    request_key_hash: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    email: Mapped[str] = mapped_column(String(320), nullable=False, index=True)
    subject: Mapped[str] = mapped_column(String(200), nullable=False)
    #: The subject's word stems (what "similar ticket" compares), kept so that no stemming
    #: is needed to compare a new ticket with thousands of earlier ones.
    subject_terms: Mapped[str | None] = mapped_column(String(400))
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
    #: Who works it now (taking a ticket from the queue assigns it).
    assignee_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"), index=True)
    #: Since when the team owes the customer an answer (None: nothing owed), and the
    #: response-time target for it (per line and priority, in business time).
    awaiting_since: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    response_due_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime, index=True)
    first_response_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    #: Line 4: the outside vendor and its reference number for this case.
    vendor: Mapped[str | None] = mapped_column(String(200))
    vendor_ref: Mapped[str | None] = mapped_column(String(200))
    #: The article that solved it (None with `resolved_at` set: no article exists).
    resolution_article_id: Mapped[str | None] = mapped_column(String(200), index=True)
    resolved_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    assignee: Mapped[StaffUser | None] = relationship()

    messages: Mapped[list[TicketMessage]] = relationship(
        back_populates="ticket", order_by="TicketMessage.id", cascade="all, delete-orphan")
    events: Mapped[list[TicketEvent]] = relationship(
        order_by="TicketEvent.id", cascade="all, delete-orphan")
    links: Mapped[list[TicketLink]] = relationship(
        order_by="TicketLink.id", cascade="all, delete-orphan")


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
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"))

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


class StaffUser(UserMixin, db.Model):
    """Someone on the support team: a line 1 agent, a line 2 engineer, a line 3 expert or an
    administrator. Customers have no accounts."""

    __tablename__ = "staff_user"

    def get_id(self) -> str | None:
        # Flask-Login keeps this in the cookie: the login session's token, not the user id,
        # so that ending the session on the server ends every copy of the cookie.
        return getattr(self, "login_token", None)

    @property
    def is_active(self) -> bool:
        return bool(self.active)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320), nullable=False, unique=True)
    name: Mapped[str] = mapped_column(String(200), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False)
    #: A salted scrypt hash (Werkzeug's format); never the password.
    password_hash: Mapped[str] = mapped_column(String(300), nullable=False)
    active: Mapped[bool] = mapped_column(Boolean, nullable=False, default=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    last_login_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class StaffSession(db.Model):
    """One login. The browser's cookie carries a random token whose hash is kept here, so
    logging out (or disabling the account) ends the session even for a copied cookie."""

    __tablename__ = "staff_session"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"),
                                         nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    last_seen_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    address: Mapped[str | None] = mapped_column(String(64))
    user_agent: Mapped[str | None] = mapped_column(String(300))

    user: Mapped[StaffUser] = relationship()


class ApiToken(db.Model):
    """A staff member's token for an outside helpdesk (search with internal articles, link
    articles to tickets). Only its hash is kept; the token is shown once."""

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("staff_user.id", ondelete="CASCADE"),
                                         nullable=False, index=True)
    name: Mapped[str] = mapped_column(String(100), nullable=False)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False, unique=True)
    #: The first characters of the token, so its owner can tell tokens apart.
    prefix: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    last_used_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    revoked_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    user: Mapped[StaffUser] = relationship()


class TicketAccess(db.Model):
    """A further private status link of a ticket, one per mail that carries a link (only
    the first link's hash is on the ticket itself)."""

    __tablename__ = "ticket_access"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"),
                                           nullable=False, index=True)
    token_hash: Mapped[str] = mapped_column(String(64), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)


class TicketEvent(db.Model):
    """One line of a ticket's audit history: who changed what, when (details as JSON)."""

    __tablename__ = "ticket_event"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"),
                                           nullable=False, index=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False, index=True)
    #: The staff member who did it; None for the customer or the system.
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"), index=True)
    actor: Mapped[str] = mapped_column(String(16), nullable=False)  # staff | customer | system
    kind: Mapped[str] = mapped_column(String(32), nullable=False, index=True)
    data: Mapped[str] = mapped_column(Text, nullable=False, default="{}")

    staff: Mapped[StaffUser | None] = relationship()


class TicketLink(db.Model):
    """An article an agent linked to a ticket. The link sent to the customer carries `code`,
    so opening it is counted here (and as an article view reached via "agent_link")."""

    __tablename__ = "ticket_link"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int] = mapped_column(ForeignKey("ticket.id", ondelete="CASCADE"),
                                           nullable=False, index=True)
    article_id: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"), index=True)
    code: Mapped[str] = mapped_column(String(32), nullable=False, unique=True)
    #: Where the agent linked it: the console or an outside helpdesk through the API.
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    opens: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    first_opened_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_opened_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    staff: Mapped[StaffUser | None] = relationship()


class ArticleRequest(db.Model):
    """"No article exists": an agent asks the experts for one, with the ticket attached."""

    __tablename__ = "article_request"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket.id", ondelete="SET NULL"), index=True)
    requested_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"))
    topic: Mapped[str] = mapped_column(String(300), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    #: The article an expert started for it.
    article_id: Mapped[str | None] = mapped_column(String(200))
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open", index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"))
    close_note: Mapped[str | None] = mapped_column(Text)

    requested_by: Mapped[StaffUser | None] = relationship(foreign_keys=[requested_by_id])


class ArticleFlag(db.Model):
    """An article marked outdated or wrong by someone working a ticket, for its owner."""

    __tablename__ = "article_flag"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    article_id: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    ticket_id: Mapped[int | None] = mapped_column(
        ForeignKey("ticket.id", ondelete="SET NULL"), index=True)
    flagged_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"))
    kind: Mapped[str] = mapped_column(String(16), nullable=False)  # outdated | wrong
    comment: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="open", index=True)
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    closed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    closed_by_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"))
    close_note: Mapped[str | None] = mapped_column(Text)

    flagged_by: Mapped[StaffUser | None] = relationship(foreign_keys=[flagged_by_id])


class ArticleRevision(db.Model):
    """One version of an article's file: who saved it, when and why, and the whole text.

    A save writes its revision as *pending* before it touches the file and marks it
    *applied* once the file and the index hold it, so a save cut short by a crash is either
    finished or forgotten when the portal starts again (see `portal.authoring.store`)."""

    __tablename__ = "article_revision"
    __table_args__ = (UniqueConstraint("article_id", "number"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    #: The article's id now: a renamed article's history moves with it.
    article_id: Mapped[str] = mapped_column(String(200), nullable=False, index=True)
    number: Mapped[int] = mapped_column(Integer, nullable=False)
    #: The file as written (empty for a removal) and the sha256 of its bytes.
    content: Mapped[str] = mapped_column(Text, nullable=False)
    content_hash: Mapped[str] = mapped_column(String(64), nullable=False, index=True)
    title: Mapped[str] = mapped_column(String(300), nullable=False, default="")
    #: published | draft | archived, or removed when the file went away.
    status: Mapped[str] = mapped_column(String(16), nullable=False)
    #: editor | restore | review | gap | disk (changed outside the portal); a move is told
    #: by `renamed_from`.
    source: Mapped[str] = mapped_column(String(16), nullable=False)
    message: Mapped[str] = mapped_column(String(500), nullable=False, default="")
    author_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"), index=True)
    author_name: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False, index=True)
    state: Mapped[str] = mapped_column(String(16), nullable=False, default="applied",
                                       index=True)
    #: The id the article had before this revision moved it.
    renamed_from: Mapped[str | None] = mapped_column(String(200))

    author: Mapped[StaffUser | None] = relationship()


class GapAction(db.Model):
    """What an expert did about a gap (failed searches with one normalized form): wrote an
    article for it, said an existing article answers it, or chose to ignore it."""

    __tablename__ = "gap_action"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    normalized: Mapped[str] = mapped_column(String(400), nullable=False, index=True)
    #: article (a new one was written) | keywords | best_bet | ignored
    kind: Mapped[str] = mapped_column(String(16), nullable=False)
    article_id: Mapped[str | None] = mapped_column(String(200), index=True)
    #: How the gap read when the expert acted (its most typed query).
    query: Mapped[str] = mapped_column(String(400), nullable=False)
    note: Mapped[str | None] = mapped_column(Text)
    staff_id: Mapped[int | None] = mapped_column(
        ForeignKey("staff_user.id", ondelete="SET NULL"))
    created_at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False)
    #: Taken back (an ignored gap shown again).
    undone_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)

    staff: Mapped[StaffUser | None] = relationship()


class SearchVerdict(db.Model):
    """How one search of a closed visit went, judged once (`portal.tracking.verdicts`):
    its failure kind (None: it helped) and what the visitor finally did."""

    __tablename__ = "search_verdict"
    __table_args__ = (Index("ix_search_verdict_normalized_at", "normalized", "at"),
                      Index("ix_search_verdict_outcome_at", "outcome", "at"))

    search_id: Mapped[int] = mapped_column(
        ForeignKey("search_event.id", ondelete="CASCADE"), primary_key=True)
    session_id: Mapped[int] = mapped_column(
        ForeignKey("search_session.id", ondelete="CASCADE"), nullable=False, index=True)
    at: Mapped[dt.datetime] = mapped_column(UtcDateTime, nullable=False, index=True)
    #: The support team's local day of `at` (the day of its rollup row).
    day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    normalized: Mapped[str] = mapped_column(String(400), nullable=False)
    query: Mapped[str] = mapped_column(String(400), nullable=False)
    failure: Mapped[str | None] = mapped_column(String(16))
    outcome: Mapped[str | None] = mapped_column(String(16))


class GapDay(db.Model):
    """The judged searches of one normalized form on one local day of the team, counted:
    the rollup the gaps report adds up."""

    __tablename__ = "gap_day"

    # The form first: the report adds up each form's days in the key's order.
    normalized: Mapped[str] = mapped_column(String(400), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    searches: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    no_results: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    partial: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    not_opened: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    voted_no: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    ticket: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: Outcomes of the failures: a ticket, something found later, the visitor left.
    out_ticket: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    out_found_later: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    out_left: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    first_failed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    last_failed_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)


class GapDayQuery(db.Model):
    """How often each typed query of a normalized form failed on one local day (the gap's
    sample queries)."""

    __tablename__ = "gap_day_query"

    normalized: Mapped[str] = mapped_column(String(400), primary_key=True)
    query: Mapped[str] = mapped_column(String(400), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    failures: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class RollupState(db.Model):
    """Facts about the rollups: `zone`, the time zone their days are in; the `lock` row,
    which every writer of rollups updates first, so that they take turns."""

    __tablename__ = "rollup_state"

    name: Mapped[str] = mapped_column(String(32), primary_key=True)
    value: Mapped[str] = mapped_column(String(200), nullable=False, default="")


class AnalyticsVisitDay(db.Model):
    """What one judged visit adds to the analytics of one local day of the team (a day it
    searched or read an article on its own): kept so that a visit opened again can be taken
    out of `analytics_day` and `analytics_sessions` exactly as it was put in."""

    __tablename__ = "analytics_visit_day"
    __table_args__ = (
        # Covers the join with the tickets of a visitor (deflection).
        Index("ix_analytics_visit_day_visitor", "visitor_id", "day", "read_at", "session_id"),
        Index("ix_analytics_visit_day_first_read_at", "first_read_at"),
        Index("ix_analytics_visit_day_later_read_day", "later_read", "day"),
    )

    session_id: Mapped[int] = mapped_column(
        ForeignKey("search_session.id", ondelete="CASCADE"), primary_key=True)
    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    visitor_id: Mapped[str] = mapped_column(String(64), nullable=False)
    #: The local day the visit began on (the day its help session counts in).
    started_day: Mapped[dt.date] = mapped_column(Date, nullable=False)
    searches: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    zero_results: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    clicked: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: The first article read that day not from a support reply.
    read_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    #: `read_at` again on the day of the visit's first read (None on its other days).
    first_read_at: Mapped[dt.datetime | None] = mapped_column(UtcDateTime)
    #: It read that day, and on an earlier day too (a visit across midnight: rare).
    later_read: Mapped[bool] = mapped_column(Boolean, nullable=False, default=False)


class AnalyticsDay(db.Model):
    """The judged visits' searches and first reads of one local day of the team."""

    __tablename__ = "analytics_day"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    searches: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    zero_results: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    clicked: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    #: Visits whose first article read (not from a support reply) was on this day.
    reads: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class AnalyticsSessions(db.Model):
    """Judged help sessions, by the day they began and the first and last day they searched
    or read: a period counts those that searched or read within it."""

    __tablename__ = "analytics_sessions"

    started_day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    first_day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    last_day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    sessions: Mapped[int] = mapped_column(Integer, nullable=False, default=0)


class VoteDay(db.Model):
    """Votes counted per local day of their last change, article and answer."""

    __tablename__ = "vote_day"

    day: Mapped[dt.date] = mapped_column(Date, primary_key=True)
    article_id: Mapped[str] = mapped_column(String(200), primary_key=True)
    helpful: Mapped[bool] = mapped_column(Boolean, primary_key=True)
    #: The reason of a "no" ("" for none: a key column cannot be NULL).
    reason: Mapped[str] = mapped_column(String(32), primary_key=True)
    votes: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
