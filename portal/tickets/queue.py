"""The agents' queue: which tickets a view and its filters show, in the order the work is
done, and how long the line has left to respond to each.

Knows no request: the view reads and checks the parameters and passes the staff member."""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass

from sqlalchemy import Select
from sqlalchemy import case
from sqlalchemy import func
from sqlalchemy import select
from sqlalchemy.orm import selectinload

from ..extensions import db
from ..models import StaffUser
from ..models import Ticket
from .work import ACTIVE_STATUSES

#: What is to do, one's own, nobody's, waiting for the customer, everything.
VIEWS = ("active", "mine", "unassigned", "waiting", "all")
#: Views that show only work still to do unless a status filter says otherwise.
_TO_DO_VIEWS = ("active", "mine", "unassigned")
PAGE_SIZE = 50
#: The possible mass incidents shown above the queue, newest first.
MAX_INCIDENTS = 20

#: The queue's filters by name: "view", "status", "line", "priority", "category" and
#: "assignee" (a staff id or "none"); None does not filter.
Filters = Mapping[str, str | None]


@dataclass(frozen=True)
class QueuePage:
    """One page of the queue, the number of tickets on every page, and the open incidents."""

    tickets: list[Ticket]
    total: int
    incidents: list[Ticket]


def active_staff() -> list[StaffUser]:
    """The staff who can take a ticket, by name."""
    return list(db.session.scalars(select(StaffUser).where(StaffUser.active.is_(True))
                                   .order_by(StaffUser.name)))


def queue_query(filters: Filters, staff_id: int) -> Select[Ticket]:
    """The tickets a view and its filters show (`staff_id` is whose "mine" is)."""
    query = select(Ticket)
    view = filters["view"]
    if view == "mine":
        query = query.where(Ticket.assignee_id == staff_id)
    elif view == "unassigned":
        query = query.where(Ticket.assignee_id.is_(None))
    elif view == "waiting":
        query = query.where(Ticket.status == "waiting")
    if filters["status"]:
        query = query.where(Ticket.status == filters["status"])
    elif view in _TO_DO_VIEWS:
        query = query.where(Ticket.status.in_(ACTIVE_STATUSES))
    if filters["line"]:
        query = query.where(Ticket.line == int(filters["line"]))
    if filters["priority"]:
        query = query.where(Ticket.priority == filters["priority"])
    if filters["category"]:
        query = query.where(func.coalesce(Ticket.category, Ticket.guessed_category)
                            == filters["category"])
    if filters["assignee"] == "none":
        query = query.where(Ticket.assignee_id.is_(None))
    elif filters["assignee"]:
        query = query.where(Ticket.assignee_id == int(filters["assignee"]))
    return query


def queue_order(query: Select[Ticket], filters: Filters) -> Select[Ticket]:
    """Work to do: possible mass incidents first, then the ticket whose response is due
    soonest, then the most urgent, then the oldest. Closed work: the newest first."""
    if filters["view"] == "all" or filters["status"] in ("resolved", "closed"):
        return query.order_by(Ticket.created_at.desc(), Ticket.id.desc())
    urgency = case({"urgent": 0, "high": 1, "normal": 2}, value=Ticket.priority, else_=3)
    return query.order_by(Ticket.mass_incident.desc(), Ticket.response_due_at.is_(None),
                          Ticket.response_due_at, urgency, Ticket.created_at)


def queue_page(filters: Filters, staff_id: int, page: int,
               per_page: int = PAGE_SIZE) -> QueuePage:
    """Page `page` (from 1) of the queue, with the count of all it holds."""
    query = queue_query(filters, staff_id)
    total = db.session.scalar(select(func.count()).select_from(query.subquery())) or 0
    listed = queue_order(query, filters).options(selectinload(Ticket.assignee))
    found = list(db.session.scalars(listed.offset((page - 1) * per_page).limit(per_page)))
    return QueuePage(found, total, open_incidents())


def open_incidents(limit: int = MAX_INCIDENTS) -> list[Ticket]:
    """Tickets still worked on that look like part of a mass incident, newest first."""
    return list(db.session.scalars(
        select(Ticket).where(Ticket.mass_incident.is_(True), Ticket.status.in_(ACTIVE_STATUSES))
        .order_by(Ticket.created_at.desc()).limit(limit)))


def response_seconds_left(ticket: Ticket, now: dt.datetime) -> float | None:
    """Seconds until the line's response is due (below zero: overdue), or None when the
    line owes the customer nothing."""
    if ticket.response_due_at is None or ticket.status not in ACTIVE_STATUSES:
        return None
    return (ticket.response_due_at - now).total_seconds()
