"""The JSON API for widgets and other tools: search, suggestions, articles."""

from __future__ import annotations

import datetime as dt
import hmac
import logging
from urllib.parse import urlsplit
from urllib.parse import urlunsplit

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import jsonify
from flask import request
from flask_babel import gettext as _
from sqlalchemy import select
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import MultiDict

from .. import tickets
from .. import tracking
from ..articles import is_valid_id
from ..extensions import csrf
from ..extensions import db
from ..models import Ticket
from ..search import Scope
from ..search import cached_search
from ..search import suggest as run_suggest
from ..service_hours import calendar
from ..tickets import work
from ..web.auth import EXPERT_ROLES
from ..web.auth import TICKET_ROLES
from ..web.auth import api_staff
from ..web.auth import api_user
from ..web.auth import bearer_token
from ..web.knowledge import current_index
from ..web.limits import limit_tickets
from ..web.visitors import known_visitor
from .agent import customer_link
from .agent import error_text
from .params import category_arg
from .params import int_arg
from .params import json_body
from .params import lang_arg
from .params import text_arg
from .public import raw_path_is_plain
from .public import track_search
from .public import ui_lang
from .public import visible_categories
from .tickets import new_form
from .tickets import open_ticket
from .tickets import status_url

log = logging.getLogger(__name__)
bp = Blueprint("api", __name__, url_prefix="/api/v1")
csrf.exempt(bp)


@bp.get("/search")
def search():
    """`{"query", "total", "corrected", "hits": [...]}` for `?q=...&limit=...&lang=...`."""
    query = text_arg("q")
    if not query.strip():
        abort(400, _("The parameter “q” is required."))
    limit = int_arg("limit", 10, 1, 50)
    page = int_arg("page", 1, 1, 100)
    lang = lang_arg()
    category = category_arg({c["id"] for c in visible_categories(ui_lang())})
    exact = request.args.get("exact") in ("1", "true")
    if request.headers.get("Authorization") and api_user() is None:
        abort(401)
    staff_member = api_user()
    # A staff token (an agent in an outside helpdesk) also finds internal articles.
    visibility = "staff" if staff_member is not None else "public"
    results = cached_search(current_index(), query,
                            Scope(lang=lang, category=category, visibility=visibility),
                            page=page, per_page=limit, allow_correction=not exact,
                            size=current_app.config["SEARCH_CACHE_SIZE"])
    if known_visitor() and staff_member is None:
        # A widget in a customer's browser: its searches belong to the visit.
        track_search(results, lang, category, "api")
    catalog = current_index().catalog()
    return jsonify({
        "query": results.query,
        "total": results.total,
        "page": results.page,
        "corrected": results.corrected,
        "correction": results.correction_kinds,
        # No article has every informative word: `missing` names those the best one lacks.
        "partial": results.partial,
        "missing": results.missing,
        "hits": [
            {
                "id": hit.id,
                "title": hit.title,
                "url": hit.link,
                "section": hit.section,
                "snippet": str(hit.snippet),
                "score": hit.score,
                "source": hit.source,
                "lang": hit.lang,
                "category": hit.category,
                "internal": catalog[hit.id].audience == "internal" if hit.id in catalog
                else False,
                "pinned": hit.pinned,
                "partial": hit.partial,
            }
            for hit in results.hits
        ],
    })


@bp.get("/suggest")
def suggest():
    """Article titles matching what has been typed so far."""
    query = text_arg("q")
    lang = lang_arg()
    found = run_suggest(current_index(), query, Scope(lang=lang))
    return jsonify({
        "query": query[:200],
        "suggestions": [{"id": a.id, "title": a.title, "url": a.url, "lang": a.lang}
                        for a in found],
    })


@bp.get("/articles/<path:article_id>")
def article(article_id: str):
    """One public article: its metadata and sanitized HTML."""
    if not is_valid_id(article_id) or not raw_path_is_plain():
        abort(404)
    snapshot = current_index().article(article_id)
    if snapshot is None or not snapshot.info.is_public:
        abort(404)
    info = snapshot.info
    return jsonify({
        "id": info.id, "title": info.title, "summary": info.summary, "lang": info.lang,
        "category": info.category, "tags": list(info.tags), "url": info.url,
        "translations": list(info.translations), "source": info.source,
        "html": snapshot.html,
        "toc": [{"level": level, "anchor": anchor, "title": title}
                for level, anchor, title in snapshot.toc],
    })


TICKET_FIELDS = ("name", "email", "subject", "description", "category", "version", "os",
                 "occurred_at", "error_text", "urgency")


@bp.post("/tickets")
@limit_tickets
def create_ticket():
    """Open a ticket from a widget: the form's fields as JSON, the same validation; the trail
    of the visitor cookie sent along is attached. Answers `{"number", "status_url"}`."""
    body = json_body()
    if not isinstance(body, dict):
        abort(400, _("The body must be a JSON object."))
    errors = {key: [_("Must be text.")] for key, value in body.items()
              if key in TICKET_FIELDS and value is not None and not isinstance(value, str)}
    unknown = sorted(set(body) - set(TICKET_FIELDS))
    if unknown:
        errors["_unknown"] = [_("Unknown field: %(name)s", name=name[:50]) for name in unknown[:10]]
    if errors:
        return jsonify({"error": _("The ticket was not accepted."), "errors": errors}), 400
    data = MultiDict({"category": "", "urgency": "normal"})
    data.update({key: value for key, value in body.items() if isinstance(value, str)})
    if data.get("occurred_at"):
        data["occurred_at"] = _local_minutes(data["occurred_at"])
    key = request.headers.get("Idempotency-Key")
    if key is not None and not tickets.REQUEST_KEY.fullmatch(key):
        abort(400, _("The Idempotency-Key header must be 8 to 200 letters, digits or "
                     "“-”, “_”, “.”, “:”."))
    form = new_form(formdata=data, meta={"csrf": False})
    if not form.validate():
        return jsonify({"error": _("The ticket was not accepted."),
                        "errors": {name: [str(e) for e in errs]
                                   for name, errs in form.errors.items()}}), 400
    try:
        created = open_ticket(form, _widget_page(), key)
    except SQLAlchemyError:
        log.exception("could not store a ticket from the API")
        abort(503, _("The ticket could not be saved right now. Please send it again."))
    # A repeated Idempotency-Key answers with the ticket it made (200), not a new one.
    return jsonify({"number": created.ticket.number,
                    "status_url": status_url(created.ticket.number, created.token)}), (
        200 if created.repeated else 201)


def _widget_page() -> str | None:
    """The page the widget was on, without its query string (it may hold someone's data)."""
    if not request.referrer:
        return None
    parts = urlsplit(request.referrer)
    return urlunsplit((parts.scheme, parts.netloc, parts.path, "", ""))[:500] or None


def _local_minutes(text: str) -> str:
    """An ISO 8601 moment as the form's "YYYY-MM-DDTHH:MM" in the support team's zone
    (a moment without a zone is taken as already local); anything else is left to fail."""
    try:
        moment = dt.datetime.fromisoformat(text.strip().replace("Z", "+00:00"))
    except ValueError:
        return text
    if moment.tzinfo is not None:
        moment = moment.astimezone(calendar().zone)
    return moment.strftime("%Y-%m-%dT%H:%M")


@bp.get("/tickets/<number>")
def ticket(number: str):
    """The ticket with its trail and public messages, for the holder of its status token."""
    found = tickets.find_ticket(number, request.args.get("token", ""))
    if found is None:
        abort(404)
    data = tickets.ticket_data(found)
    data["messages"] = [{"author": m.author, "body": m.body, "at": m.created_at.isoformat()}
                        for m in tickets.public_messages(found)]
    return jsonify(data), 200, {"Cache-Control": "no-store"}


@bp.post("/tickets/<number>/links")
@api_staff(*TICKET_ROLES)
def link_article(number: str):
    """An agent in an outside helpdesk linked an article in a reply: record it, and answer
    the tracked link to send (`{"article": "<id>"}` in, `{"article", "title", "url"}` out)."""
    body = json_body()
    if not isinstance(body, dict) or not isinstance(body.get("article"), str):
        abort(400, _("Send {\"article\": \"<article id>\"} as JSON."))
    found = db.session.scalar(select(Ticket).where(Ticket.number == number[:32]))
    if found is None:
        abort(404)
    article_id = body["article"]
    catalog = current_index().catalog()
    try:
        created = work.link_article(found, api_user(), article_id, catalog, source="api")
    except tickets.TicketError as error:
        abort(409 if str(error) == "closed" else 400, error_text(str(error)))
    try:
        db.session.commit()
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("could not record a linked article")
        abort(503)
    return jsonify({"article": article_id, "title": catalog[article_id].title,
                    "url": customer_link(article_id, created.code)}), 201


@bp.get("/reports/gaps")
def gaps_report():
    """The gaps report as JSON for outside tools: a staff token of an expert or an
    administrator, or `Authorization: Bearer <REPORTS_API_TOKEN>` for a reporting tool."""
    expected = current_app.config["REPORTS_API_TOKEN"]
    sent = bearer_token()
    user = api_user()
    if user is not None:
        if user.role not in EXPERT_ROLES:
            abort(403)
    elif not expected or not hmac.compare_digest(sent.encode(), expected.encode()):
        abort(401, _("A valid token is required."))
    days = int_arg("days", 30, 1, 3650)
    limit = int_arg("limit", 50, 1, 1000)
    now = dt.datetime.now(dt.UTC)
    found = tracking.gaps(now - dt.timedelta(days=days), now=now, limit=limit)
    return jsonify({"since_days": days, "gaps": [gap.as_dict() for gap in found]})
