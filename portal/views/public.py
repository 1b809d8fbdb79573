"""Pages for customers: home, categories, articles, search results."""

from __future__ import annotations

import logging
from urllib.parse import urlsplit

from flask import Blueprint
from flask import abort
from flask import current_app
from flask import flash
from flask import jsonify
from flask import make_response
from flask import redirect
from flask import render_template
from flask import request
from flask import send_from_directory
from flask import url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from flask_login import current_user
from sqlalchemy.exc import SQLAlchemyError

from .. import feedback
from .. import popularity
from .. import tracking
from ..articles import is_valid_id
from ..extensions import csrf
from ..extensions import db
from ..search import ArticleInfo
from ..search import Scope
from ..search import cached_search
from ..search import related
from ..web.deployment import cookie_secure
from ..web.i18n import LANGUAGE_COOKIE
from ..web.knowledge import current_index
from ..web.limits import limit_votes
from ..web.shared_pages import shared_page
from ..web.visitors import event_context
from ..web.visitors import is_event_uid
from ..web.visitors import is_link_code
from ..web.visitors import visitor_id
from .forms import VoteForm
from .params import category_arg
from .params import int_arg
from .params import lang_arg
from .params import text_arg

log = logging.getLogger(__name__)
bp = Blueprint("public", __name__)

CATEGORY_PAGE_SIZE = 50
POPULAR_COUNT = 8
#: Lists whose links name themselves with `?via=` (search results carry their search).
LINK_VIAS = ("suggest", "related", "ticket_form")


def ui_lang() -> str:
    return str(get_locale())


def _public_counts(index) -> dict[str, dict[str, int]]:
    """Public articles per category and language, once per index generation."""

    def compute(_searcher) -> dict[str, dict[str, int]]:
        counts: dict[str, dict[str, int]] = {}
        for info in index.catalog().values():
            if info.is_public and info.category:
                per_lang = counts.setdefault(info.category, {})
                per_lang[info.lang] = per_lang.get(info.lang, 0) + 1
        return counts

    return index.derived("public_counts", compute)


def visible_categories(lang: str) -> list[dict]:
    """Categories that have public articles, in their order, with titles in `lang`."""
    index = current_index()
    known = index.categories()
    found = []
    for name, per_lang in _public_counts(index).items():
        category = known.get(name)
        found.append({
            "id": name,
            "title": category.title(lang) if category else name.replace("-", " ").capitalize(),
            "description": category.description(lang) if category else "",
            "order": category.order if category else 1000,
            "count": per_lang.get(lang, 0) or sum(per_lang.values()),
        })
    return sorted(found, key=lambda c: (c["order"], c["title"].lower()))


@bp.get("/")
def home():
    lang = ui_lang()
    categories = visible_categories(lang)
    popular, leading = starting_points(lang, categories)
    return render_template("public/home.html", categories=categories, popular=popular,
                           leading=leading)


def starting_points(lang: str, categories: list[dict] | None = None, top_up: bool = False
                    ) -> tuple[list[ArticleInfo], list[ArticleInfo]]:
    """The most viewed public articles in `lang`, and each topic's leading articles: these
    only until views exist (a new help center), or, with `top_up`, to fill the list up
    while few articles have views."""
    catalog = current_index().catalog()
    popular = []
    for article_id, _views in popularity.most_viewed(current_app.config["POPULAR_DAYS"], 50):
        info = catalog.get(article_id)
        if info and info.is_public and info.lang == lang:
            popular.append(info)
        if len(popular) == POPULAR_COUNT:
            break
    if len(popular) == POPULAR_COUNT or (popular and not top_up):
        return popular, []
    categories = visible_categories(lang) if categories is None else categories
    shown = {info.id for info in popular}
    leading = popularity.leading_articles(
        [info for info in catalog.values() if info.is_public and info.lang == lang
         and info.id not in shown],
        [c["id"] for c in categories], current_index().links_in(), POPULAR_COUNT - len(popular))
    return popular, leading


@bp.get("/category/<name>")
def category(name: str):
    lang = ui_lang()
    categories = {c["id"]: c for c in visible_categories(lang)}
    if name not in categories:
        abort(404)
    articles = [info for info in current_index().catalog().values()
                if info.category == name and info.is_public]
    in_lang = [a for a in articles if a.lang == lang]
    shown = sorted(in_lang or articles, key=lambda a: a.title.lower())
    others = len(articles) - len(shown)
    page = int_arg("page", 1, 1, 10_000)
    pages = max(1, -(-len(shown) // CATEGORY_PAGE_SIZE))
    if page > pages:
        abort(404)
    first = (page - 1) * CATEGORY_PAGE_SIZE
    return render_template("public/category.html", category=categories[name],
                           articles=shown[first:first + CATEGORY_PAGE_SIZE], page=page,
                           pages=pages, others=others)


def raw_path_is_plain() -> bool:
    """False when the path as sent hides a '/' or '.' behind percent-encoding."""
    raw = request.environ.get("RAW_URI") or request.environ.get("REQUEST_URI") or ""
    path = raw.split("?", 1)[0].lower()
    return not any(code in path for code in ("%2f", "%5c", "%2e", "%00"))


def public_article(article_id: str, staff: bool = False):
    """The published snapshot of a public article (for `staff`, internal ones too), or 404."""
    if not is_valid_id(article_id) or not raw_path_is_plain():
        abort(404)
    snapshot = current_index().article(article_id)
    if snapshot is None or snapshot.info.status != "published" or (
            not staff and not snapshot.info.is_public):
        abort(404)
    return snapshot


@bp.get("/kb/<path:article_id>")
def article(article_id: str):
    index = current_index()
    catalog = index.catalog()  # in memory: the stored snapshot is read once, below
    if is_valid_id(article_id) and raw_path_is_plain() and article_id not in catalog:
        target = index.resolve_alias(article_id)
        if target and target in catalog and catalog[target].is_public:
            return redirect(url_for("public.article", article_id=target), code=301)
    snapshot = public_article(article_id, staff=current_user.is_authenticated)
    opened = _opened(article_id)
    if not current_user.is_authenticated:  # staff checking a link are not its customer
        tracking.track_event(opened)
    vote = _current_vote(article_id)
    form = VoteForm(reason=vote.reason if vote else None, comment=vote.comment if vote else None)
    return render_article(snapshot, form, vote,
                          view_uid=None if current_user.is_authenticated else opened.uid)


def _opened(article_id: str) -> tracking.ArticleOpened:
    """The view of an article, crediting the search result (`s`, `r`) or the list it was
    picked from (`via`). Odd values are ignored: a shared link must always open."""
    search_uid = request.args.get("s", "")
    if is_event_uid(search_uid):
        rank = request.args.get("r", "")
        return tracking.ArticleOpened(
            **event_context(), article_id=article_id, via="search", search_uid=search_uid,
            rank=int(rank) if rank.isascii() and rank.isdigit() and 0 < int(rank[:5]) <= 1000
            else None)
    link = request.args.get("t", "")
    if is_link_code(link):
        return tracking.ArticleOpened(**event_context(), article_id=article_id,
                                      via="agent_link", ticket_link=link)
    via = request.args.get("via", "")
    return tracking.ArticleOpened(**event_context(), article_id=article_id,
                                  via=via if via in LINK_VIAS else "direct")


@bp.post("/kb/<path:article_id>/read")
@csrf.exempt
def read(article_id: str):
    """The article page reports how long it was in view (sent with navigator.sendBeacon)."""
    view_uid = request.form.get("view", "")
    seconds = request.form.get("ms", "")
    if (not is_valid_id(article_id) or not is_event_uid(view_uid) or not seconds.isascii()
            or not seconds.isdigit() or len(seconds) > 9):
        abort(400)
    tracking.track_event(tracking.ArticleRead(
        visitor_id=visitor_id(), view_uid=view_uid,
        dwell_ms=min(int(seconds), tracking.MAX_DWELL_MS)))
    return "", 204


def render_article(snapshot, form: VoteForm, vote, status: int = 200, view_uid: str | None = None):
    index = current_index()
    categories = {c["id"]: c for c in visible_categories(ui_lang())}
    translations = [t for t in index.translations_of(snapshot.info.id) if t.is_public]
    # The language switch on an article opens its translation, when it has one.
    language_links = {t.lang: t.url for t in reversed(translations)}
    language_links[snapshot.info.lang] = snapshot.info.url
    page = render_template("public/article.html", article=snapshot,
                           language_links=language_links,
                           category=categories.get(snapshot.info.category),
                           related=related(index, snapshot.info.id), translations=translations,
                           form=form, vote=vote, view_uid=view_uid)
    return page, status


def _current_vote(article_id: str):
    """The visitor's vote, or None; a failing database only hides it."""
    try:
        return feedback.vote_of(visitor_id(), article_id)
    except SQLAlchemyError:
        db.session.rollback()
        log.exception("could not read a vote")
        return None


@bp.post("/kb/<path:article_id>/feedback")
@limit_votes
def vote(article_id: str):
    """Record "Did this help?"; answers JSON to the page script, else redirects back."""
    snapshot = public_article(article_id)
    wants_json = request.accept_mimetypes.best == "application/json"
    form = VoteForm()
    if form.validate_on_submit() and (form.yes.data or form.no.data or form.send.data):
        helpful = bool(form.yes.data)
        try:
            saved = feedback.record_vote(visitor_id(), article_id, helpful,
                                         form.reason.data or None, form.comment.data)
        except feedback.FeedbackError:
            form.form_errors.append(_("Your answer could not be saved. Please try again."))
        except SQLAlchemyError:
            db.session.rollback()
            log.exception("could not store a vote")
            form.form_errors.append(_("Your answer could not be saved. Please try again."))
        else:
            tracking.track_event(tracking.ArticleVoted(
                **event_context(), article_id=article_id, helpful=saved.helpful,
                reason=saved.reason))
            message = _thanks(saved)
            if wants_json:
                return jsonify({"helpful": saved.helpful, "reason": saved.reason,
                                "ask_reason": not saved.helpful and not form.send.data,
                                "message": message})
            flash(message, "feedback")
            return redirect(url_for("public.article", article_id=article_id,
                                    _anchor="feedback"), code=303)
    elif not form.errors:
        form.form_errors.append(_("Choose “Yes” or “No”."))
    errors = list(form.form_errors) + [e for field in form for e in field.errors]
    if wants_json:
        return jsonify({"errors": [str(e) for e in errors]}), 400
    return render_article(snapshot, form, _current_vote(article_id), status=400)


def _thanks(saved) -> str:
    if saved.helpful:
        return _("Thank you! Glad it helped.")
    if saved.reason or saved.comment:
        return _("Thank you! We will use your answer to improve this article.")
    return _("Sorry it did not help. What was wrong?")


@bp.get("/search")
def search():
    query = text_arg("q")
    lang = lang_arg()
    categories = visible_categories(ui_lang())
    category = category_arg({c["id"] for c in categories})
    page = int_arg("page", 1, 1, 100)
    exact = request.args.get("exact") == "1"
    per_page = current_app.config["RESULTS_PER_PAGE"]
    scope = Scope(lang=lang, category=category, prefer_lang=ui_lang())
    results = cached_search(current_index(), query, scope, page=page, per_page=per_page,
                            allow_correction=not exact,
                            size=current_app.config["SEARCH_CACHE_SIZE"])
    search_uid = track_search(results, lang, category, "page")

    def draw(uid: str | None) -> str:
        # Nothing found: where most customers go next, instead of a dead end.
        popular, leading = starting_points(ui_lang(), categories, top_up=True) \
            if query and not results.total else ([], [])
        return render_template("public/search.html", results=results, lang=lang,
                               category=category, categories=categories, search_uid=uid,
                               popular=popular, leading=leading)

    if not results.total:
        return draw(search_uid)
    return shared_page(current_index(), draw, search_uid)


def track_search(results, lang: str | None, category: str | None, source: str) -> str | None:
    """Record a search (a new query, not another page of one); its uid for result links."""
    if not results.query or results.page > 1:
        return None
    event = tracking.SearchMade.of(
        results.query, results.total, results.elapsed_ms,
        corrected=results.corrected, correction=results.correction_kinds,
        partial=results.partial, lang=lang, category=category, source=source,
        **event_context())
    tracking.track_event(event)
    return event.uid


@bp.get("/favicon.ico")
def favicon():
    """The site's icon, where browsers and feed readers look for it first."""
    return send_from_directory(current_app.static_folder or "static", "favicon.ico",
                               mimetype="image/vnd.microsoft.icon", max_age=7 * 24 * 3600)


@bp.get("/language/<code>")
def language(code: str):
    """Switch the interface language and go back to the page the visitor was on."""
    if code not in current_app.config["LANGUAGES"]:
        abort(404)
    response = make_response(redirect(safe_next(request.args.get("next"))))
    response.set_cookie(LANGUAGE_COOKIE, code, max_age=365 * 24 * 3600, samesite="Lax",
                        httponly=True, secure=cookie_secure())
    return response


def safe_next(target: str | None, fallback: str | None = None) -> str:
    """`target` when it is a path on this site, else `fallback` (the home page)."""
    fallback = fallback or url_for("public.home")
    if not target or len(target) > 2000:
        return fallback
    if any(ord(c) < 32 or c == "\\" for c in target):
        return fallback
    parts = urlsplit(target)
    if parts.scheme or parts.netloc or not target.startswith("/") or target.startswith("//"):
        return fallback
    return target
