"""The JSON API for widgets and other tools: search, suggestions, articles."""

from __future__ import annotations

from flask import Blueprint
from flask import abort
from flask import jsonify
from flask import request
from flask_babel import gettext as _

from ..articles import is_valid_id
from ..extensions import csrf
from ..knowledge import current_index
from ..search import Scope
from ..search import search as run_search
from ..search import suggest as run_suggest
from .params import category_arg
from .params import int_arg
from .params import lang_arg
from .params import text_arg
from .public import raw_path_is_plain
from .public import ui_lang
from .public import visible_categories

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
    results = run_search(current_index(), query, Scope(lang=lang, category=category),
                         page=page, per_page=limit, allow_correction=not exact)
    return jsonify({
        "query": results.query,
        "total": results.total,
        "page": results.page,
        "corrected": results.corrected,
        "correction": results.correction_kinds,
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
