"""Customers' ticket pages: "Still need help?", the confirmation and the status page."""

from __future__ import annotations

import datetime as dt
import logging
import secrets
from urllib.parse import parse_qs
from urllib.parse import urlsplit

from flask import Blueprint
from flask import abort
from flask import flash
from flask import get_flashed_messages
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import session
from flask import url_for
from flask_babel import gettext as _
from flask_limiter.errors import RateLimitExceeded
from sqlalchemy.exc import SQLAlchemyError

from .. import outbox
from .. import tickets
from .. import tracking
from ..extensions import db
from ..search import Scope
from ..search import clean_query
from ..search import search as run_search
from ..search import suggest as run_suggest
from ..service_hours import calendar
from ..web.deployment import external_url
from ..web.knowledge import current_index
from ..web.limits import limit_ticket_messages
from ..web.limits import limit_tickets
from ..web.limits import retry_after
from ..web.visitors import visitor_id
from .errors import respond
from .errors import wait_phrase
from .forms import SolvedForm
from .forms import TicketForm
from .forms import TicketMessageForm
from .params import text_arg
from .public import safe_next
from .public import ui_lang
from .public import visible_categories

log = logging.getLogger(__name__)
bp = Blueprint("tickets", __name__, url_prefix="/tickets")

SUGGESTIONS = 5
#: Status pages: the address holds the private token; keep it out of caches and referrers.
PRIVATE = {"Cache-Control": "no-store", "Referrer-Policy": "no-referrer"}


@bp.context_processor
def wording() -> dict:
    """Status names and system messages in the visitor's language."""

    def status_label(status: str) -> str:
        return {
            "new": _("Received"), "open": _("In progress"),
            "waiting": _("Waiting for your answer"), "escalated": _("Passed to specialists"),
            "resolved": _("Solved"), "closed": _("Closed"),
        }.get(status, status)

    def system_text(code: str) -> str:
        return {"customer_marked_solved": _("You marked the request as solved.")}.get(code, code)

    def system_title(code: str) -> str:
        """What happened, as the heading of an entry the portal itself wrote."""
        return {"customer_marked_solved": _("Marked as solved")}.get(code, _("Status changed"))

    return {"status_label": status_label, "system_text": system_text,
            "system_title": system_title}


def category_choices() -> list[tuple[str, str]]:
    """The knowledge base's topics, plus "I don't know" and "something else"."""
    return ([("", _("I don't know"))]
            + [(c["id"], c["title"]) for c in visible_categories(ui_lang())]
            + [("other", _("Something else"))])


def new_form(**data) -> TicketForm:
    form = TicketForm(**data)
    form.category.choices = category_choices()
    return form


def articles_for(text: str, limit: int = SUGGESTIONS) -> list:
    """Public articles that match what the customer wrote, best first."""
    if not text.strip():
        return []
    results = run_search(current_index(), text, Scope(prefer_lang=ui_lang()), per_page=limit)
    return results.hits


def status_url(number: str, token: str) -> str:
    """The private status link of a ticket, as given to the customer."""
    return external_url("tickets.status", number=number, token=token)


def open_ticket(form: TicketForm, source_page: str | None,
                request_key: str | None = None) -> tickets.Created:
    """Turn a valid form (from the page or the API) into a ticket; domain errors pass up.
    A `request_key` sent before returns the ticket it made then."""
    index = current_index()
    catalog = index.catalog()

    def title_of(article_id: str) -> str | None:
        info = catalog.get(article_id)
        return info.title if info else None

    def category_of(article_id: str) -> str | None:
        info = catalog.get(article_id)
        return info.category if info else None

    def categories_for_text(text: str) -> list[str]:
        return [hit.category for hit in articles_for(text, 3)]

    request_data = tickets.TicketRequest(
        name=form.name.data, email=form.email.data, subject=form.subject.data,
        description=form.description.data, urgency=form.urgency.data,
        category=form.category.data or None, version=form.version.data or None,
        os=form.os.data or None, occurred_at=_aware(form.occurred_at.data),
        error_text=form.error_text.data or None)
    return tickets.create_ticket(
        request_data, visitor_id=visitor_id(), lang=ui_lang(), source_page=source_page,
        title_of=title_of, category_of=category_of, categories_for_text=categories_for_text,
        status_url_for=status_url, request_key=request_key)


def _aware(moment: dt.datetime | None) -> dt.datetime | None:
    """A moment typed in the customer's form (no zone) read in the support team's zone."""
    if moment is None or moment.tzinfo is not None:
        return moment
    return moment.replace(tzinfo=calendar().zone)


def starting_subject(came_from: str) -> str:
    """The subject to start from: the query of the results page the visitor came from, as
    they typed it; else their last search in this visit (stored masked)."""
    parts = urlsplit(came_from)
    if parts.path == url_for("public.search"):
        typed = clean_query(parse_qs(parts.query).get("q", [""])[0])
        if typed:
            return typed
    tracking.flush(timeout=1.0)
    try:
        return tracking.last_query(visitor_id(), dt.datetime.now(dt.UTC)) or ""
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("could not read the visitor's last search")
        return ""


@bp.route("/new", methods=["GET", "POST"])
@limit_tickets
def new():
    if request.method == "GET":
        came_from = safe_next(request.args.get("came_from"))
        form = new_form(subject=starting_subject(came_from), came_from=came_from,
                        request_key=secrets.token_urlsafe(24))
        return render_new(form)
    form = new_form()
    if not form.validate_on_submit():
        return render_new(form, status=400)
    key = form.request_key.data or ""
    try:
        created = open_ticket(form, safe_next(form.came_from.data),
                              key if tickets.REQUEST_KEY.fullmatch(key) else None)
    except SQLAlchemyError:
        log.exception("could not store a ticket")
        form.form_errors.append(_("Your request could not be saved right now. Nothing you "
                                  "typed is lost: please send it again in a minute."))
        return render_new(form, status=503)
    flash("repeated" if created.repeated else "created", "ticket")
    # Back to the form later (the browser's Back button) says where this ticket is.
    session["sent_ticket"] = {"number": created.ticket.number, "token": created.token}
    return redirect(status_url(created.ticket.number, created.token), code=303)


def render_new(form: TicketForm, status: int = 200, limited: bool = False):
    suggestions = articles_for(form.subject.data or "", 3) if request.method == "GET" else []
    if not form.request_key.data:
        form.request_key.data = secrets.token_urlsafe(24)
    sent = session.get("sent_ticket") if request.method == "GET" else None
    sent_link = (url_for("tickets.status", number=sent["number"], token=sent["token"])
                 if isinstance(sent, dict) and isinstance(sent.get("number"), str)
                 and isinstance(sent.get("token"), str) else None)
    page = render_template("tickets/new.html", form=form, suggestions=suggestions,
                           limited=limited, sent=sent if sent_link else None,
                           sent_link=sent_link)
    # Never from the browser's cache: Back after sending asks again, and gets a fresh form
    # with a link to the ticket just sent instead of the filled one that would send it twice.
    return page, status, {"Cache-Control": "no-store"}


@bp.errorhandler(RateLimitExceeded)
def too_many(error: RateLimitExceeded):
    """Over the limit: say so, with everything the customer typed still in the form."""
    wait = retry_after()
    headers = {"Retry-After": str(wait)} if wait else {}
    if wait:
        message = _("You have sent several requests in a short time. You can send this one "
                    "in %(wait)s; what you typed is kept.", wait=wait_phrase(wait))
    else:
        message = _("You have sent several requests in a short time. Please wait a while and "
                    "send this one again; what you typed is kept.")
    if request.endpoint == "tickets.new":
        form = new_form()
        form.form_errors.append(message)
        page, _status, no_store = render_new(form, limited=True)
        return page, 429, {**headers, **no_store}
    if request.endpoint == "tickets.add_message":
        form = TicketMessageForm()
        ticket = tickets.find_ticket(request.view_args["number"], form.token.data or "")
        if ticket is not None:
            form.body.errors = [message]
            page, _status, private = render_status(ticket, form.token.data, form)
            return page, 429, {**headers, **private}
    return respond(error)


@bp.get("/suggest")
def suggest():
    """Articles matching the subject being typed (shown under the subject field)."""
    query = text_arg("q", 400)
    found = articles_for(query) if len(query.strip()) >= 3 else []
    if not found and query.strip():
        found = run_suggest(current_index(), query, Scope(prefer_lang=ui_lang()))[:SUGGESTIONS]
    return jsonify({"articles": [
        {"id": a.id, "title": a.title, "url": url_for("public.article", article_id=a.id,
                                                      via="ticket_form")}
        for a in found]})


def _ticket_or_404(number: str, token: str):
    try:
        ticket = tickets.find_ticket(number, token)
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("could not read ticket %s", number[:40])
        abort(503)
    if ticket is None:
        abort(404)
    return ticket


@bp.get("/<number>")
def status(number: str):
    token = request.args.get("token", "")
    ticket = _ticket_or_404(number, token)
    return render_status(ticket, token)


def render_status(ticket, token: str, message_form: TicketMessageForm | None = None,
                  code: int = 200):
    now = dt.datetime.now(dt.UTC)
    answered = any(m.author == "staff" and m.public for m in ticket.messages)
    # The promise stays on every visit while the team owes the first answer.
    due = (tickets.due_phrase(ticket.answer_due_at, now)
           if ticket.answer_due_at and not answered
           and ticket.status in ("new", "open", "escalated") else None)
    shown = get_flashed_messages(category_filter=["ticket"])
    return render_template(
        "tickets/status.html", ticket=ticket, token=token, due=due,
        created="created" in shown or "repeated" in shown, repeated="repeated" in shown,
        link=status_url(ticket.number, token), messages=tickets.public_messages(ticket),
        message_form=message_form or TicketMessageForm(token=token),
        solved_form=SolvedForm(token=token),
        can_write=ticket.status in tickets.CUSTOMER_CAN_WRITE), code, PRIVATE


@bp.post("/<number>/messages")
@limit_ticket_messages
def add_message(number: str):
    form = TicketMessageForm()
    ticket = _ticket_or_404(number, form.token.data or "")
    if not form.validate_on_submit():
        return render_status(ticket, form.token.data, form, 400)
    try:
        message = tickets.add_customer_message(ticket, form.body.data)
        if ticket.assignee is not None and ticket.assignee.active:
            tickets.queue_customer_wrote(ticket, message, external_url(
                "agent.ticket", number=ticket.number, _anchor="conversation"))
        db.session.commit()
    except tickets.TicketError:  # the form checked the text: the ticket was closed meanwhile
        db.session.rollback()
        form.body.errors = [_("This request is closed. Please open a new one.")]
        return render_status(ticket, form.token.data, form, 400)
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("could not store a customer message")
        form.body.errors = [_("Your message could not be saved right now. Please send it "
                              "again in a minute.")]
        return render_status(ticket, form.token.data, form, 503)
    outbox.kick()
    flash(_("Your message has been added."), "ticket-info")
    return redirect(url_for("tickets.status", number=number, token=form.token.data,
                            _anchor="messages"), code=303)


@bp.post("/<number>/solved")
@limit_ticket_messages
def solved(number: str):
    form = SolvedForm()
    ticket = _ticket_or_404(number, form.token.data or "")
    if not form.validate_on_submit():
        abort(400)
    try:
        tickets.mark_solved(ticket)
        db.session.commit()
    except tickets.TicketError:
        db.session.rollback()
        abort(400, _("This request is already closed."))
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("could not mark ticket %s solved", number)
        abort(503)
    flash(_("Thank you! We have marked your request as solved. If the problem comes back, "
            "write here and we will reopen it."), "ticket-info")
    return redirect(url_for("tickets.status", number=number, token=form.token.data), code=303)
