"""What the support lines do with a ticket: take it, reply, change its state, escalate it,
link articles, resolve it, flag articles. Every change is written to the ticket's history.

Knows no request: views pass the staff member and plain values; a broken rule raises
`TicketError` with a code the view words for people."""

from __future__ import annotations

import datetime as dt
import json
import secrets
from collections.abc import Mapping

from ..articles import is_valid_id
from ..extensions import db
from ..models import ArticleFlag
from ..models import ArticleRequest
from ..models import StaffUser
from ..models import Ticket
from ..models import TicketEvent
from ..models import TicketLink
from ..models import TicketMessage
from ..search import ArticleInfo
from ..service_hours import calendar
from .common import MAX_MESSAGE
from .common import TicketError

LINES = (1, 2, 3, 4)
#: Statuses a staff member sets directly; "resolved" needs `resolve`, "escalated" a line.
STAFF_STATUSES = ("open", "waiting", "closed")
ACTIVE_STATUSES = ("new", "open", "waiting", "escalated")
FLAG_KINDS = ("outdated", "wrong")
MAX_NOTE = 2000
MAX_TOPIC = 300
MAX_VENDOR = 200
LINK_SOURCES = ("console", "api")


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def _optional_text(value: str | None, limit: int) -> str | None:
    """Typed text without its surrounding blanks, None when nothing was typed."""
    value = (value or "").strip()
    if len(value) > limit:
        raise TicketError("too_long")
    return value or None


def _text(value: str | None, limit: int, error: str) -> str:
    """Typed text that must be there: `error` when it is blank."""
    text = _optional_text(value, limit)
    if text is None:
        raise TicketError(error)
    return text


def record(ticket: Ticket, kind: str, by: StaffUser | None, at: dt.datetime,
           actor: str | None = None, **data: object) -> TicketEvent:
    """Add a line to the ticket's history (committed with the change it describes)."""
    event = TicketEvent(ticket_id=ticket.id, at=at, staff_id=by.id if by else None,
                        actor=actor or ("staff" if by else "system"), kind=kind,
                        data=json.dumps(data, ensure_ascii=False))
    db.session.add(event)
    ticket.updated_at = at
    return event


def start_waiting(ticket: Ticket, since: dt.datetime) -> None:
    """The line owes the customer a response from `since`: start its response-time clock."""
    ticket.awaiting_since = since
    ticket.response_due_at = calendar().response_due(since, ticket.line, ticket.priority)


def stop_waiting(ticket: Ticket) -> None:
    ticket.awaiting_since = None
    ticket.response_due_at = None


def take(ticket: Ticket, by: StaffUser, now: dt.datetime | None = None) -> None:
    """Assign the ticket to `by`; a new ticket becomes open."""
    now = now or _now()
    if ticket.status == "closed":
        raise TicketError("closed")
    if ticket.assignee_id == by.id:
        return
    previous = ticket.assignee.name if ticket.assignee else None
    ticket.assignee_id = by.id
    if ticket.status == "new":
        ticket.status = "open"
    record(ticket, "assigned", by, now, to=by.name, previous=previous)


def release(ticket: Ticket, by: StaffUser, now: dt.datetime | None = None) -> None:
    """Put the ticket back in the queue, unassigned."""
    if ticket.assignee_id is None or ticket.assignee is None:
        return
    record(ticket, "unassigned", by, now or _now(), previous=ticket.assignee.name)
    ticket.assignee_id = None


def reply(ticket: Ticket, by: StaffUser, body: str, public: bool,
          now: dt.datetime | None = None) -> TicketMessage:
    """A public reply (the customer sees and is mailed it; it stops the response clock) or
    an internal note (only staff see it)."""
    now = now or _now()
    body = _text(body, MAX_MESSAGE, "empty")
    if ticket.status == "closed":
        raise TicketError("closed")
    message = TicketMessage(ticket=ticket, author="staff", author_name=by.name, body=body,
                            public=public, created_at=now, staff_id=by.id)
    db.session.add(message)
    if ticket.status == "new":
        ticket.status = "open"
    if public:
        if ticket.first_response_at is None:
            ticket.first_response_at = now
        if ticket.awaiting_since is not None:
            late = ticket.response_due_at is not None and now > ticket.response_due_at
            record(ticket, "responded", by, now, line=ticket.line, late=late,
                   waited_s=int((now - ticket.awaiting_since).total_seconds()))
            stop_waiting(ticket)
    record(ticket, "reply" if public else "note", by, now)
    return message


def set_status(ticket: Ticket, by: StaffUser, status: str,
               now: dt.datetime | None = None) -> None:
    """Open, waiting for the customer, or closed."""
    now = now or _now()
    if status not in STAFF_STATUSES:
        raise TicketError("bad_status")
    if status == ticket.status:
        return
    previous = ticket.status
    ticket.status = status
    if status in ("waiting", "closed"):
        stop_waiting(ticket)
    record(ticket, "status", by, now, previous=previous, to=status)


def escalate(ticket: Ticket, by: StaffUser, line: int, note: str, vendor: str | None = None,
             vendor_ref: str | None = None, now: dt.datetime | None = None) -> None:
    """Move the ticket to another line with a note saying why (line 4 also names the vendor
    and its reference number). The new line owes a response from now; the ticket leaves
    its assignee, since someone on the new line takes it."""
    now = now or _now()
    if line not in LINES:
        raise TicketError("bad_line")
    if line == ticket.line:
        raise TicketError("same_line")
    if ticket.status == "closed":
        raise TicketError("closed")
    note = _text(note, MAX_NOTE, "note_required")
    if line == 4:
        vendor = _text(vendor, MAX_VENDOR, "vendor_required")
        vendor_ref = _text(vendor_ref, MAX_VENDOR, "vendor_ref_required")
        ticket.vendor, ticket.vendor_ref = vendor, vendor_ref
    previous = ticket.line
    ticket.line = line
    ticket.status = "escalated" if line > 1 else "open"
    ticket.assignee_id = None
    db.session.add(TicketMessage(ticket=ticket, author="staff", author_name=by.name,
                                 body=note, public=False, created_at=now, staff_id=by.id))
    start_waiting(ticket, now)
    record(ticket, "line", by, now, previous=previous, to=line, note=note,
           vendor=vendor if line == 4 else None, vendor_ref=vendor_ref if line == 4 else None)


def published_article(catalog: Mapping[str, ArticleInfo],
                      article_id: str | None) -> ArticleInfo | None:
    """The article a ticket can name (link, resolve with, flag): a published one."""
    info = catalog.get(article_id) if article_id and is_valid_id(article_id) else None
    return info if info is not None and info.status == "published" else None


def link_article(ticket: Ticket, by: StaffUser, article_id: str,
                 catalog: Mapping[str, ArticleInfo], source: str = "console",
                 now: dt.datetime | None = None) -> TicketLink:
    """Record that `by` linked an article in a reply; the link's code tracks its opening.
    Only a published public article of `catalog` can be sent to a customer, and only on a
    ticket still open ("no_article", "internal_article", "closed")."""
    now = now or _now()
    if source not in LINK_SOURCES:
        raise ValueError(f"unknown link source {source!r}")
    info = published_article(catalog, article_id)
    if info is None:
        raise TicketError("no_article")
    if not info.is_public:
        raise TicketError("internal_article")
    if ticket.status == "closed":
        raise TicketError("closed")
    link = TicketLink(ticket_id=ticket.id, article_id=article_id, staff_id=by.id,
                      code=secrets.token_urlsafe(9), source=source, created_at=now)
    db.session.add(link)
    record(ticket, "linked", by, now, article=article_id, source=source)
    return link


def resolve(ticket: Ticket, by: StaffUser, article_id: str | None,
            request_topic: str | None = None, request_note: str | None = None,
            now: dt.datetime | None = None) -> ArticleRequest | None:
    """Resolve with the article that solved it, or, when none exists, file an article
    request for the experts with this ticket attached (returned)."""
    now = now or _now()
    if ticket.status == "closed":
        raise TicketError("closed")
    filed = None
    if article_id:
        ticket.resolution_article_id = article_id
    else:
        topic = _text(request_topic, MAX_TOPIC, "topic_required")
        filed = ArticleRequest(ticket_id=ticket.id, requested_by_id=by.id, topic=topic,
                               note=_optional_text(request_note, MAX_NOTE),
                               status="open", created_at=now)
        db.session.add(filed)
        ticket.resolution_article_id = None
    previous = ticket.status
    ticket.status = "resolved"
    ticket.resolved_at = now
    stop_waiting(ticket)
    record(ticket, "resolved", by, now, previous=previous, article=article_id,
           request=topic if filed else None)
    return filed


def flag_article(ticket: Ticket, by: StaffUser, article_id: str, kind: str, comment: str,
                 now: dt.datetime | None = None) -> ArticleFlag:
    """Tell an article's owner it is outdated or wrong, from the ticket that showed it."""
    now = now or _now()
    if kind not in FLAG_KINDS:
        raise TicketError("bad_flag")
    comment = _text(comment, MAX_NOTE, "comment_required")
    flag = ArticleFlag(article_id=article_id, ticket_id=ticket.id, flagged_by_id=by.id,
                       kind=kind, comment=comment, status="open", created_at=now)
    db.session.add(flag)
    record(ticket, "flagged", by, now, article=article_id, flag=kind)
    return flag


def customer_wrote(ticket: Ticket, now: dt.datetime) -> None:
    """The customer added a message: the ticket is back with the team, which owes a reply."""
    previous = ticket.status
    if ticket.status in ("waiting", "resolved"):
        ticket.status = "open" if ticket.line == 1 else "escalated"
    if ticket.awaiting_since is None:
        start_waiting(ticket, now)
    record(ticket, "customer_message", None, now, actor="customer", previous=previous,
           to=ticket.status)
