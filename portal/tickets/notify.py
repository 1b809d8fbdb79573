"""What a new ticket sends out: the customer's confirmation mail and the helpdesk webhook.
Both are queued in the ticket's transaction and go out through the outbox."""

from __future__ import annotations

import datetime as dt
import json
import logging
from zoneinfo import ZoneInfo

from babel.dates import format_date
from babel.dates import format_time
from babel.dates import get_timezone_location
from flask import current_app
from flask import render_template
from flask_babel import force_locale
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_babel import lazy_gettext as _l

from .. import outbox
from ..models import Ticket
from ..models import TicketMessage
from ..service_hours import calendar
from ..service_hours import describe_due

log = logging.getLogger(__name__)


def ticket_data(ticket: Ticket, with_trail: bool = True) -> dict[str, object]:
    """The ticket as plain data, for the webhook and the API."""
    data: dict[str, object] = {
        "number": ticket.number, "status": ticket.status, "line": ticket.line,
        "priority": ticket.priority,
        "priority_reasons": ticket.priority_reasons.split(",") if ticket.priority_reasons
        else [],
        "mass_incident": ticket.mass_incident, "subject": ticket.subject,
        "description": ticket.description, "name": ticket.name, "email": ticket.email,
        "category": ticket.category, "guessed_category": ticket.guessed_category,
        "version": ticket.version, "os": ticket.os,
        "occurred_at": ticket.occurred_at.isoformat() if ticket.occurred_at else None,
        "error_text": ticket.error_text, "urgency": ticket.urgency, "lang": ticket.lang,
        "created_at": ticket.created_at.isoformat(),
        "answer_due_at": ticket.answer_due_at.isoformat() if ticket.answer_due_at else None,
    }
    if with_trail:
        data["trail"] = json.loads(ticket.trail or "{}")
    return data


#: Russia's time zones, named as people there say them ("по московскому времени").
ZONE_NAMES = {
    "Europe/Kaliningrad": _l("Kaliningrad time"), "Europe/Moscow": _l("Moscow time"),
    "Europe/Samara": _l("Samara time"), "Asia/Yekaterinburg": _l("Yekaterinburg time"),
    "Asia/Omsk": _l("Omsk time"), "Asia/Novosibirsk": _l("Novosibirsk time"),
    "Asia/Krasnoyarsk": _l("Krasnoyarsk time"), "Asia/Irkutsk": _l("Irkutsk time"),
    "Asia/Yakutsk": _l("Yakutsk time"), "Asia/Vladivostok": _l("Vladivostok time"),
    "Asia/Magadan": _l("Magadan time"), "Asia/Kamchatka": _l("Kamchatka time"),
}


def zone_name(zone: ZoneInfo, locale: str) -> str:
    """The support team's time zone as a person reads it: "Moscow time", "по московскому
    времени"; other zones by Babel's name of their city ("Berlin time")."""
    if zone.key in ZONE_NAMES:
        return str(ZONE_NAMES[zone.key])
    if zone.key in ("UTC", "Etc/UTC", "Etc/GMT"):
        return "UTC"
    return str(_("%(city)s time", city=get_timezone_location(zone, locale=locale,
                                                             return_city=True)))


def due_phrase(due: dt.datetime, now: dt.datetime) -> str:
    """When the answer is due, in words and in the support team's time zone:
    "today by 15:30, Moscow time" ("сегодня до 15:30 по московскому времени")."""
    support = calendar()
    when = describe_due(due, now, support)
    locale = str(get_locale() or "en")
    time = format_time(when.at, "HH:mm", locale=locale)
    zone = zone_name(support.zone, locale)
    if when.when == "today":
        return str(_("today by %(time)s, %(zone)s", time=time, zone=zone))
    if when.when == "tomorrow":
        return str(_("tomorrow by %(time)s, %(zone)s", time=time, zone=zone))
    # Later, or a time already past: the date itself, never a "today" that is not true.
    return str(_("by %(date)s, %(time)s, %(zone)s",
                 date=format_date(when.at.date(), "d MMMM", locale=locale), time=time,
                 zone=zone))


def _mail(ticket: Ticket, to: str, subject: str, text: str) -> None:
    """Queue a mail about `ticket`. An address the form accepted but mail cannot carry is
    logged and skipped: the ticket and its change still count."""
    try:
        outbox.queue_mail(to, outbox.header_text(subject), text, ticket_id=ticket.id)
    except outbox.OutboxError:
        log.warning("ticket %s: no mail for this address", ticket.number)


def queue_created(ticket: Ticket, status_url: str) -> None:
    """Queue the confirmation mail and the `ticket.created` webhook call."""
    with force_locale(ticket.lang):
        due = ticket.answer_due_at
        due_text = due_phrase(due, ticket.created_at) if due is not None else ""
        subject = _("Your request %(number)s: %(subject)s", number=ticket.number,
                    subject=ticket.subject)
        text = render_template("mail/ticket_created.txt", ticket=ticket, status_url=status_url,
                               due_text=due_text)
    _mail(ticket, ticket.email, subject, text)
    outbox.queue_webhook("ticket.created", {"ticket": ticket_data(ticket),
                                            "status_url": status_url}, ticket_id=ticket.id)


def queue_reply(ticket: Ticket, message: TicketMessage, status_url: str) -> None:
    """Mail a public reply to the customer, with a link to the ticket's status page."""
    with force_locale(ticket.lang):
        subject = _("Re: your request %(number)s: %(subject)s", number=ticket.number,
                    subject=ticket.subject)
        text = render_template("mail/ticket_reply.txt", ticket=ticket, message=message,
                               status_url=status_url)
    _mail(ticket, ticket.email, subject, text)
    outbox.queue_webhook("ticket.replied", {
        "ticket": ticket_data(ticket, with_trail=False),
        "reply": {"author": message.author_name, "body": message.body,
                  "at": message.created_at.isoformat()}}, ticket_id=ticket.id)


def queue_customer_wrote(ticket: Ticket, message: TicketMessage, ticket_url: str) -> None:
    """Tell the ticket's assignee the customer wrote again (in the site's default language)."""
    assignee = ticket.assignee
    if assignee is None:
        return
    with force_locale(current_app.config["BABEL_DEFAULT_LOCALE"]):
        subject = _("%(number)s: the customer wrote again", number=ticket.number)
        text = render_template("mail/customer_wrote.txt", ticket=ticket, message=message,
                               ticket_url=ticket_url)
    _mail(ticket, assignee.email, subject, text)
