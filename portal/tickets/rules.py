"""Ticket rules: creation with the visit's search trail, numbering, the private status link,
and what the customer may do afterwards (add a message, mark it solved)."""

from __future__ import annotations

import datetime as dt
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Callable
from dataclasses import asdict
from dataclasses import dataclass

from flask import current_app
from sqlalchemy import select
from sqlalchemy import update
from sqlalchemy.exc import IntegrityError

from .. import outbox
from .. import tracking
from ..extensions import db
from ..models import Ticket
from ..models import TicketAccess
from ..models import TicketMessage
from ..service_hours import calendar
from . import notify
from . import triage
from . import work
from .common import MAX_MESSAGE
from .common import TicketError

URGENCIES = ("low", "normal", "high", "critical")
STATUSES = ("new", "open", "waiting", "escalated", "resolved", "closed")
#: Statuses in which the customer can still write; a closed ticket needs a new one.
CUSTOMER_CAN_WRITE = ("new", "open", "waiting", "escalated", "resolved")
_NUMBER = re.compile(r"[A-Za-z0-9]{1,10}-\d{1,12}")
#: A request key: what the form generates (token_urlsafe), or a client's Idempotency-Key.
REQUEST_KEY = re.compile(r"[A-Za-z0-9_\-.:]{8,200}")


@dataclass
class TicketRequest:
    """What the customer filled in (already validated by the form or the API)."""

    name: str
    email: str
    subject: str
    description: str
    urgency: str = "normal"
    category: str | None = None
    version: str | None = None
    os: str | None = None
    occurred_at: dt.datetime | None = None
    error_text: str | None = None


@dataclass
class Created:
    """A new ticket and its status token (shown once, in the link; only its hash is kept)."""

    ticket: Ticket
    token: str
    #: True when the request key was seen before: this is the ticket it made then.
    repeated: bool = False


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


def format_number(prefix: str, ticket_id: int) -> str:
    """The number customers quote: the prefix and a zero-padded sequence, e.g. INC-000042."""
    return f"{prefix}-{ticket_id:06d}"


def create_ticket(request: TicketRequest, *, visitor_id: str | None, lang: str,
                  source_page: str | None, title_of: Callable[[str], str | None],
                  category_of: Callable[[str], str | None],
                  categories_for_text: Callable[[str], list[str]],
                  status_url_for: Callable[[str, str], str],
                  now: dt.datetime | None = None, request_key: str | None = None) -> Created:
    """Store a ticket with the trail of the visitor's current visit and its triage.

    The ticket, the marks on similar tickets and the outbox messages are committed in one
    transaction, then the outbox is woken: mail being down never loses a ticket.
    `status_url_for(number, token)` makes the customer's private link. A `request_key`
    already used returns the ticket it made, with a fresh status token (`repeated`).
    """
    key_hash = hash_token(request_key) if request_key else None
    if key_hash and (earlier := _by_request_key(key_hash)) is not None:
        return _repeated(earlier, now)
    now = now or dt.datetime.now(dt.UTC)
    config = current_app.config
    tracking.flush(timeout=2.0)  # this process's latest searches belong in the trail
    visit = tracking.current_visit(visitor_id, now) if visitor_id else None
    trail = tracking.build_trail(visit, now, title_of, source_page)
    guessed = triage.guess_category(
        trail, category_of, lambda: categories_for_text(f"{request.subject} {request.description}"))
    assessment = triage.assess(request.urgency, request.subject, request.description,
                               request.category or guessed, now, config)
    token = secrets.token_urlsafe(24)
    ticket = Ticket(
        token_hash=hash_token(token), status="new", line=1, lang=lang,
        subject_terms=triage.subject_terms(request.subject),
        visitor_id=visitor_id, session_id=visit.session.id if visit else None,
        source_page=source_page[:500] if source_page else None, trail=json.dumps(trail),
        guessed_category=guessed, priority=assessment.priority,
        priority_reasons=",".join(assessment.reasons) or None,
        mass_incident=assessment.mass_incident, created_at=now, updated_at=now,
        request_key_hash=key_hash, **asdict(request))
    ticket.answer_due_at = calendar().answer_due(now, ticket.priority)
    db.session.add(ticket)
    try:
        db.session.flush()
    except IntegrityError:
        db.session.rollback()
        # The same key sent twice at once: the other request stored the ticket first.
        if key_hash and (earlier := _by_request_key(key_hash)) is not None:
            return _repeated(earlier, now)
        raise
    if ticket.session_id is not None:
        tracking.reopen_visit(ticket.session_id)  # a visit judged already ends in a ticket
    ticket.number = format_number(config["TICKET_NUMBER_PREFIX"], ticket.id)
    work.start_waiting(ticket, now)
    work.record(ticket, "created", None, now, actor="customer")
    if assessment.mass_incident and assessment.similar_ticket_ids:
        db.session.execute(update(Ticket).where(Ticket.id.in_(assessment.similar_ticket_ids))
                           .values(mass_incident=True))
    notify.queue_created(ticket, status_url_for(ticket.number, token))
    try:
        db.session.commit()
    except Exception:
        db.session.rollback()
        raise
    outbox.kick()
    return Created(ticket, token)


def _by_request_key(key_hash: str) -> Ticket | None:
    ticket: Ticket | None = db.session.scalar(
        select(Ticket).where(Ticket.request_key_hash == key_hash))
    return ticket


def _repeated(ticket: Ticket, now: dt.datetime | None) -> Created:
    """The ticket a request key made before, with a further status link for this answer."""
    token = grant_access(ticket, now)
    db.session.commit()
    return Created(ticket, token, repeated=True)


def find_ticket(number: str, token: str) -> Ticket | None:
    """The ticket when the number and its status token match; None for anything else, in
    the same way, so a wrong guess learns nothing."""
    if not _NUMBER.fullmatch(number or "") or not token or len(token) > 200:
        return None
    ticket: Ticket | None = db.session.scalar(select(Ticket).where(Ticket.number == number))
    expected = ticket.token_hash if ticket else hash_token("no such ticket")
    if ticket is None:
        return None
    if hmac.compare_digest(expected, hash_token(token)):
        return ticket
    further = db.session.scalar(select(TicketAccess.id).where(
        TicketAccess.ticket_id == ticket.id, TicketAccess.token_hash == hash_token(token)))
    return ticket if further is not None else None


def grant_access(ticket: Ticket, now: dt.datetime | None = None) -> str:
    """A further private status link for a mail to the customer (the first link's token is
    never kept, so each mail that carries a link gets its own)."""
    token = secrets.token_urlsafe(24)
    db.session.add(TicketAccess(ticket_id=ticket.id, token_hash=hash_token(token),
                                created_at=now or dt.datetime.now(dt.UTC)))
    return token


def public_messages(ticket: Ticket) -> list[TicketMessage]:
    """What the customer sees on the status page: their messages and public replies."""
    return [m for m in ticket.messages if m.public]


def add_customer_message(ticket: Ticket, body: str, now: dt.datetime | None = None
                         ) -> TicketMessage:
    """The customer writes again: a waiting or resolved ticket goes back to the team."""
    body = (body or "").strip()
    if not body:
        raise TicketError("empty")
    if len(body) > MAX_MESSAGE:
        raise TicketError("too_long")
    if ticket.status not in CUSTOMER_CAN_WRITE:
        raise TicketError("closed")
    now = now or dt.datetime.now(dt.UTC)
    message = TicketMessage(ticket=ticket, author="customer", author_name=ticket.name,
                            body=body, public=True, created_at=now)
    db.session.add(message)
    work.customer_wrote(ticket, now)
    return message


def mark_solved(ticket: Ticket, now: dt.datetime | None = None) -> None:
    """The customer says the problem is solved."""
    if ticket.status == "closed":
        raise TicketError("closed")
    if ticket.status == "resolved":
        return
    now = now or dt.datetime.now(dt.UTC)
    previous = ticket.status
    ticket.status = "resolved"
    ticket.resolved_at = now
    work.stop_waiting(ticket)
    work.record(ticket, "customer_solved", None, now, actor="customer", previous=previous)
    db.session.add(TicketMessage(ticket=ticket, author="system", body="customer_marked_solved",
                                 public=True, created_at=now))
