"""The agent console: the ticket queue and the ticket page, for every support line."""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Callable
from urllib.parse import urlsplit

from flask import Blueprint
from flask import abort
from flask import flash
from flask import jsonify
from flask import redirect
from flask import render_template
from flask import request
from flask import url_for
from flask_babel import gettext as _
from flask_babel import ngettext
from flask_login import current_user
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError

from .. import outbox
from .. import tickets
from ..extensions import db
from ..models import StaffUser
from ..models import Ticket
from ..search import Hit
from ..search import Scope
from ..search import search as run_search
from ..search import suggest as run_suggest
from ..tickets import queue as ticket_queue
from ..tickets import work
from ..tickets.suggestions import suggested_articles as find_suggestions
from ..tickets.triage import similar_tickets
from ..web import auth
from ..web.deployment import external_url
from ..web.knowledge import current_index
from .forms import ActionForm
from .forms import EscalateForm
from .forms import FlagForm
from .forms import ReplyForm
from .forms import ResolveForm
from .forms import StatusForm
from .forms import mail_configured
from .labels import line_label
from .pages import describe_page
from .params import choice_arg
from .params import int_arg
from .params import lang_arg
from .params import text_arg
from .public import ui_lang
from .public import visible_categories
from .tickets import status_url

log = logging.getLogger(__name__)
bp = Blueprint("agent", __name__, url_prefix="/agent")
auth.guard_blueprint(bp, auth.TICKET_ROLES)

VIEWS = ticket_queue.VIEWS
QUEUE_PAGE = ticket_queue.PAGE_SIZE
KB_RESULTS = 8


# --- The queue ---------------------------------------------------------------------------


def _filters(staff: list[StaffUser]) -> dict:
    staff_ids = {str(u.id) for u in staff}
    return {
        "view": choice_arg("view", VIEWS, "active"),
        "status": choice_arg("status", tickets.STATUSES),
        "line": choice_arg("line", [str(line) for line in work.LINES]),
        "priority": choice_arg("priority", tickets.PRIORITIES),
        "category": choice_arg("category", {c["id"] for c in visible_categories(ui_lang())}
                               | {"other"}),
        "assignee": choice_arg("assignee", staff_ids | {"none"}),
    }


@bp.get("/")
def queue():
    """Tickets by view and filters, with their response-time targets."""
    staff = ticket_queue.active_staff()
    filters = _filters(staff)
    page = int_arg("page", 1, 1, 10_000)
    found = ticket_queue.queue_page(filters, current_user.id, page, QUEUE_PAGE)
    now = dt.datetime.now(dt.UTC)
    return render_template(
        "agent/queue.html", tickets=found.tickets, total=found.total, page=page,
        pages=max(1, -(-found.total // QUEUE_PAGE)), filters=filters,
        incidents=found.incidents, staff=staff, categories=visible_categories(ui_lang()),
        clocks={t.id: response_clock(t, now) for t in found.tickets + found.incidents},
        views=VIEWS, category_title=category_title)


def category_title(name: str | None) -> str:
    """A ticket's category as people call it: the topic's title in the interface language
    ("internet" -> "Интернет и Wi-Fi"), "Something else" for "other", "—" for none."""
    if not name:
        return "—"
    if name == "other":
        return _("Something else")
    category = current_index().categories().get(name)
    return category.title(ui_lang()) if category else name.replace("-", " ").capitalize()


def duration(seconds: float) -> str:
    """A span of time in words: "12 min", "3 h 5 min", "2 d 4 h"."""
    minutes = max(0, int(seconds // 60))
    if minutes < 60:
        return ngettext("%(num)d min", "%(num)d min", minutes)
    hours, minutes = divmod(minutes, 60)
    if hours < 48:
        return _("%(hours)d h %(minutes)d min", hours=hours, minutes=minutes)
    days, hours = divmod(hours, 24)
    return _("%(days)d d %(hours)d h", days=days, hours=hours)


def response_clock(ticket: Ticket, now: dt.datetime) -> dict | None:
    """The line's response target as "time left" or "overdue", or None when nothing is owed."""
    left = ticket_queue.response_seconds_left(ticket, now)
    if left is None:
        return None
    if left < 0:
        return {"overdue": True, "text": _("overdue by %(time)s", time=duration(-left)),
                "due": ticket.response_due_at}
    return {"overdue": False, "text": _("%(time)s left", time=duration(left)),
            "due": ticket.response_due_at}


# --- The ticket page ---------------------------------------------------------------------


def _ticket(number: str) -> Ticket:
    if len(number) > 32:
        abort(404)
    found = db.session.scalar(select(Ticket).where(Ticket.number == number))
    if found is None:
        abort(404)
    return found


def timeline(trail: dict) -> list[dict]:
    """The trail's searches and articles read, in the order they happened."""
    entries = [dict(search, kind="search") for search in trail.get("searches", [])]
    entries += [dict(article, kind="read") for article in trail.get("articles", [])]
    return sorted(entries, key=lambda e: e.get("at") or "")


def _staff_scope() -> Scope:
    return Scope(visibility="staff", prefer_lang=ui_lang())


def suggested_articles(ticket: Ticket, trail: dict) -> list[dict]:
    """Articles for the ticket; each says whether the customer already read it, and how
    they voted."""
    return [_hit_data(found.hit, found.read)
            for found in find_suggestions(current_index(), ticket, trail, _staff_scope())]


def _hit_data(hit: Hit, read: dict | None = None) -> dict:
    info = current_index().catalog().get(hit.id)
    return {"id": hit.id, "title": hit.title, "url": url_for("public.article", article_id=hit.id),
            "snippet": str(hit.snippet), "section": hit.section,
            "internal": bool(info and info.audience == "internal"), "lang": hit.lang,
            "read": read}


def kb_results(query: str, lang: str | None) -> list[dict]:
    if not query.strip():
        return []
    results = run_search(current_index(), query, Scope(visibility="staff", lang=lang,
                                                       prefer_lang=ui_lang()),
                         per_page=KB_RESULTS)
    return [_hit_data(hit) for hit in results.hits]


def render_ticket(ticket: Ticket, status: int = 200, **forms):
    trail = json.loads(ticket.trail or "{}")
    catalog = current_index().catalog()
    last_link = ticket.links[-1].article_id if ticket.links else ""
    kb_query = text_arg("kb", 500)
    forms = {
        "reply_form": forms.get("reply_form") or ReplyForm(formdata=None),
        "status_form": forms.get("status_form") or StatusForm(
            formdata=None, status="waiting" if ticket.status == "open" else "open"),
        "escalate_form": forms.get("escalate_form") or EscalateForm(
            formdata=None, line=min(ticket.line + 1, 4)),
        "resolve_form": forms.get("resolve_form") or _resolve_form(
            ticket.resolution_article_id or last_link),
        "flag_form": forms.get("flag_form") or FlagForm(formdata=None),
    }
    # A refused CSRF token (the page stayed open too long): the form comes back as typed,
    # with a fresh token, so sending it again works.
    expired = any(form.meta.csrf and form.csrf_token.errors for form in forms.values())
    page = render_template(
        "agent/ticket.html", ticket=ticket, expired=expired, trail=trail, timeline=timeline(trail),
        clock=response_clock(ticket, dt.datetime.now(dt.UTC)),
        similar=similar_tickets(ticket), suggested=suggested_articles(ticket, trail),
        kb_query=kb_query, kb_hits=kb_results(kb_query, None), catalog=catalog,
        action=ActionForm(), category_title=category_title,
        sent_from=describe_page(ticket.source_page),
        came_from=describe_page((trail.get("session") or {}).get("referrer")), **forms)
    return page, status


@bp.get("/tickets/<number>")
def ticket(number: str):
    return render_ticket(_ticket(number))


def _commit_or_503() -> None:
    try:
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("could not save a change to a ticket")
        abort(503, _("The change could not be saved right now. Please try again."))


def _back(ticket: Ticket, anchor: str | None = None):
    return redirect(url_for("agent.ticket", number=ticket.number, _anchor=anchor), code=303)


def error_text(code: str) -> str:
    """What a `TicketError` code means, for the staff member who met it."""
    return {
        "closed": _("The ticket is closed."),
        "empty": _("Write the message."),
        "same_line": _("The ticket is already on this line."),
        "note_required": _("Say why the ticket moves."),
        "vendor_required": _("Name the vendor the ticket goes to."),
        "vendor_ref_required": _("Give the vendor's reference number."),
        "topic_required": _("Say what the new article should answer."),
        "comment_required": _("Tell the owner what to fix."),
        "too_long": _("The text is too long."),
        "no_article": _("There is no published article with this id."),
        "internal_article": _("This article is internal: customers cannot open it."),
    }.get(code, _("This change is not allowed."))


def _act(ticket: Ticket, change, message: str, anchor: str | None = None):
    """Apply a domain change, save it, say so, and go back to the ticket."""
    try:
        change()
    except tickets.TicketError as error:
        db.session.rollback()
        flash(error_text(str(error)), "error")
        return _back(ticket, anchor)
    _commit_or_503()
    flash(message, "info")
    return _back(ticket, anchor)


def _checked_form():
    form = ActionForm()
    if not form.validate_on_submit():
        abort(400, _("The form has expired. Reload the page and try again."))


def _button(number: str, change: Callable[[Ticket, StaffUser], None], message: str):
    """A change a button makes, with nothing typed: the ticket, the form's token, the act."""
    found = _ticket(number)
    _checked_form()
    return _act(found, lambda: change(found, current_user), message)


@bp.post("/tickets/<number>/take")
def take(number: str):
    return _button(number, work.take, _("The ticket is yours now."))


@bp.post("/tickets/<number>/release")
def release(number: str):
    return _button(number, work.release, _("The ticket is back in the queue."))


@bp.post("/tickets/<number>/reply")
def reply(number: str):
    found = _ticket(number)
    form = ReplyForm()
    if not form.validate_on_submit():
        return render_ticket(found, 400, reply_form=form)
    public = form.visibility.data == "public"
    try:
        message = work.reply(found, current_user, form.body.data, public)
        if form.then.data == "waiting":
            work.set_status(found, current_user, "waiting")
        if public:
            tickets.queue_reply(found, message, _status_link(found))
    except tickets.TicketError as error:
        db.session.rollback()
        form.body.errors.append(error_text(str(error)))
        return render_ticket(found, 400, reply_form=form)
    _commit_or_503()
    outbox.kick()
    if not public:
        flash(_("The note is added."), "info")
    elif mail_configured():
        flash(_("The reply is sent."), "info")
    else:
        flash(_("The reply is on the customer's status page."), "info")
    return _back(found, "conversation")


def _status_link(ticket: Ticket) -> str:
    return status_url(ticket.number, tickets.grant_access(ticket))


@bp.post("/tickets/<number>/status")
def status(number: str):
    found = _ticket(number)
    form = StatusForm()
    if not form.validate_on_submit():
        return render_ticket(found, 400, status_form=form)
    return _act(found, lambda: work.set_status(found, current_user, form.status.data),
                _("The status is changed."))


@bp.post("/tickets/<number>/escalate")
def escalate(number: str):
    found = _ticket(number)
    form = EscalateForm()
    if not form.validate_on_submit():
        return render_ticket(found, 400, escalate_form=form)
    return _act(found, lambda: work.escalate(found, current_user, form.line.data,
                                             form.note.data, form.vendor.data,
                                             form.vendor_ref.data),
                _("The ticket moved to %(line)s.", line=line_label(form.line.data)))


def _resolve_form(article_id: str) -> ResolveForm:
    """The resolve form, starting on the article last linked (shown by its title)."""
    info = current_index().catalog().get(article_id) if article_id else None
    return ResolveForm(formdata=None, article=info.title if info else "",
                       article_id=article_id if info else "")


def chosen_article(picked: str | None, typed: str | None) -> str | None:
    """The published article an agent chose: the one picked from the list, else what was
    typed — an id, the article's address on the site, or its exact title (in the interface
    language first); None when that names no published article."""
    catalog = current_index().catalog()
    for candidate in (picked, typed):
        if work.published_article(catalog, candidate) is not None:
            return candidate
    text = " ".join((typed or "").split())
    if not text:
        return None
    path = urlsplit(text).path
    if "/kb/" in path:
        found = path.split("/kb/", 1)[1].strip("/")
        found = current_index().canonical_ids().get(found, found)
        if work.published_article(catalog, found) is not None:
            return found
    titled = [info for info in catalog.values()
              if info.status == "published" and info.title.casefold() == text.casefold()]
    titled.sort(key=lambda info: info.lang != ui_lang())
    return titled[0].id if titled else None


@bp.post("/tickets/<number>/resolve")
def resolve(number: str):
    found = _ticket(number)
    form = ResolveForm()
    valid = form.validate_on_submit()
    article = chosen_article(form.article_id.data, form.article.data)
    if valid and form.outcome.data == "article" and article is None:
        form.article.errors.append(_("No published article has this title: choose one from "
                                     "the list."))
        valid = False
    if not valid:
        return render_ticket(found, 400, resolve_form=form)
    if form.outcome.data != "article":
        article = None
    message = (_("Resolved. The experts got a request for a new article.") if article is None
               else _("Resolved."))
    return _act(found, lambda: work.resolve(found, current_user, article, form.topic.data,
                                            form.note.data), message)


@bp.post("/tickets/<number>/flag")
def flag(number: str):
    found = _ticket(number)
    form = FlagForm()
    valid = form.validate_on_submit()
    article = chosen_article(form.article_id.data, form.article.data)
    if valid and article is None:
        form.article.errors.append(_("No published article has this title: choose one from "
                                     "the list."))
        valid = False
    if not valid or article is None:
        return render_ticket(found, 400, flag_form=form)
    return _act(found, lambda: work.flag_article(found, current_user, article,
                                                 form.kind.data, form.comment.data),
                _("The article's owner will see your flag."))


@bp.post("/tickets/<number>/links")
def link(number: str):
    """"Insert link": record that this agent linked the article, and answer the title and
    the tracked link to put into the reply (JSON for the page script)."""
    found = _ticket(number)
    _checked_form()
    article_id = request.form.get("article", "")
    catalog = current_index().catalog()
    try:
        created = work.link_article(found, current_user, article_id, catalog)
    except tickets.TicketError as error:
        abort(400, error_text(str(error)))
    _commit_or_503()
    info = catalog[article_id]
    url = customer_link(article_id, created.code)
    if request.accept_mimetypes.best == "application/json":
        return jsonify({"article": article_id, "title": info.title, "url": url})
    flash(_("Paste this link into the reply: %(title)s %(url)s", title=info.title, url=url),
          "info")
    return _back(found, "reply")


def customer_link(article_id: str, code: str) -> str:
    """The article's address as sent to a customer, with the code that tracks its opening."""
    return external_url("public.article", article_id=article_id, t=code)


@bp.get("/articles")
def article_choices():
    """Articles for what is typed so far into the resolve and flag forms' article field
    (published ones, internal included), for their pick list."""
    query = text_arg("q", 200)
    catalog = current_index().catalog()
    found = [info for info in run_suggest(current_index(), query, _staff_scope(), limit=8)
             if info.status == "published"]
    if not found and query.strip():
        found = [catalog[hit.id] for hit in run_search(current_index(), query, _staff_scope(),
                                                       per_page=8).hits if hit.id in catalog]
    return jsonify({"query": query, "articles": [
        {"id": info.id, "title": info.title, "lang": info.lang,
         "internal": info.audience == "internal"} for info in found]})


@bp.get("/kb")
def kb():
    """The knowledge-base search box of the ticket page (internal articles included)."""
    query = text_arg("q", 500)
    return jsonify({"query": query, "hits": kb_results(query, lang_arg())})
